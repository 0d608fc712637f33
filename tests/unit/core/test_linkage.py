"""Probabilistic person matching: comparison levels, keys across scripts, the model's why."""

from __future__ import annotations

import pytest

from pipeline.core.linkage import (
    Model,
    birth_level,
    blocking_keys,
    common_keys,
    default_model,
    document_level,
    load_model,
    match_key,
    name_level,
    reading_key,
)
from pipeline.core.matching import PersonRef
from pipeline.core.names import tokens


@pytest.mark.parametrize(
    "spellings",
    [
        ["Mohammed", "Muhammad", "محمد", "Мухаммед"],
        ["William", "Вильям", "ويليام"],
        ["John", "Джон"],
        ["Yusuf", "يوسف", "Юсуф"],
        ["Khaled", "Халед", "خالد"],
        ["Christopher", "Кристофер"],
        ["Ahmed", "أحمد"],
        ["Alexander", "Александр"],  # a Latin x is ks
        ["Maxim", "Максим"],
        ["Sarah", "Sara", "Сара", "سارة"],  # a closing h is silent
        ["Charman", "تشارمان"],  # Arabic writes ch as tsh
        ["Bridget", "Бриджит", "بريدجيت"],  # dg is dzh, dj
    ],
)
def test_one_name_in_several_scripts_and_spellings_has_one_key(spellings: list[str]) -> None:
    keys = {tuple(match_key(t) for t in tokens(s)) for s in spellings}
    assert len(keys) == 1, keys


def test_a_name_written_in_arabic_without_p_and_v_meets_its_latin_spelling() -> None:
    # Arabic script has no p or v: Pavel and David are written with ب (b) and ف (f).
    pairs = [("David Marampon", "دفيد مرمبون"), ("Pavel Popov", "بافل بوبوف")]
    for latin, arabic in pairs:
        assert name_level(tuple(tokens(latin)), tuple(tokens(arabic))) == "same_key"
    rules = ("ky",)  # a name key with the birth year only
    latin = blocking_keys(_ref("David Marampon", (1990, 5, 17)), rules)
    rendered = blocking_keys(_ref("دفيد مرمبون", (1990, 5, 17)), rules)
    assert set(latin) & set(rendered)


def test_an_arabic_name_opening_with_a_bare_waw_meets_its_latin_vowel() -> None:
    # Informal Arabic writing drops the alif before an opening و: وليفيا for Olivia.
    olivia = tuple(tokens("Olivia Blackwell"))
    assert name_level(olivia, tuple(tokens("وليفيا بلاكويل"))) == "same_key"
    latin = blocking_keys(_ref("Olivia Blackwell", (1990, 5, 17)), ("ky",))
    assert set(latin) & set(blocking_keys(_ref("وليفيا", (1990, 5, 17)), ("ky",)))
    # English spellings keep their w: Wright is not Art.
    assert name_level(("wright", "sam"), ("art", "sam")) != "same_key"


def test_two_names_each_mistyped_late_still_meet_under_their_prefixes_and_year() -> None:
    a = blocking_keys(_ref("Travis Stubbs", (1939, None, None)), ("ky", "kf", "ppy"))
    b = blocking_keys(_ref("Travks Stubsb", (1939, None, None)), ("ky", "kf", "ppy"))
    assert set(a) & set(b) == {"ppy:st:tr:1939"}
    other_year = blocking_keys(_ref("Travks Stubsb", (1940, None, None)), ("ppy",))
    assert not set(a) & set(other_year)


@pytest.mark.parametrize(
    ("latin", "other"),
    [
        ("Tekle Gebremedhin", "ተኽለ ገብረመድህን"),  # Tigrinya's kh (ኽ) is written k
        ("Tekle Ghebremedhin", "Tekle Gebremedhin"),  # an Eritrean gh is g
        ("Tesfay Haile", "ተስፋይ ሃይለ"),
        ("Nikolaos Papadopoulos", "Νικόλαος Παπαδόπουλος"),
    ],
)
def test_tigrinya_and_greek_names_meet_their_latin_spellings(latin: str, other: str) -> None:
    assert name_level(tuple(tokens(latin)), tuple(tokens(other))) == "same_key"


def test_a_fula_name_meets_in_french_english_and_arabic_spelling() -> None:
    for a, b in [("Aminata Diallo", "Aminata Jallow"), ("Awa Diarra", "Awa Jarra")]:
        assert name_level(tuple(tokens(a)), tuple(tokens(b))) == "same_key"
    assert name_level(tuple(tokens("Aminata Diallo")), tuple(tokens("أميناتا ديالو"))) == "same_key"
    assert set(blocking_keys(_ref("Awa Diarra", (1990, 5, 17)), ("ky",))) & set(
        blocking_keys(_ref("Awa Jarra", (1990, 5, 17)), ("ky",))
    )


@pytest.mark.parametrize(
    ("latin", "arabic"),
    [
        ("Elias Haddad", "الياس حداد"),  # a name opening with el, written like the article
        ("Alexander Petrov", "الكسندر بتروف"),
        ("Omar Alhassan", "عمر الحسن"),  # the article glued to the name in Latin
    ],
)
def test_a_name_read_with_or_without_the_arabic_article_meets_its_latin_form(
    latin: str, arabic: str
) -> None:
    assert name_level(tuple(tokens(latin)), tuple(tokens(arabic))) == "same_key"


def test_birth_levels() -> None:
    assert birth_level((1990, 5, 17), (1990, 5, 17)) == "exact"
    assert birth_level((1990, 5, None), (1990, 5, 17)) == "year_month"
    assert birth_level((1990, None, None), (1990, 5, 17)) == "year_only"
    assert birth_level((1990, 5, 7), (1990, 7, 5)) == "transposed"
    assert birth_level((1990, 5, 17), (1990, 5, 18)) == "one_digit"
    assert birth_level((1990, 5, 17), (1991, 5, 17)) == "one_digit"
    assert birth_level((1990, 5, 7), (1990, 5, 17)) == "one_digit"  # 07 ~ 17
    assert birth_level((1990, 1, 7), (1990, 10, 7)) == "two_digits"  # 01 ~ 10
    assert birth_level((1989, 5, 17), (1990, 5, 17)) == "year_near"
    assert birth_level((1990, 5, 17), (1990, 5, 28)) == "two_digits"
    assert birth_level((1990, 5, 17), (1962, 1, 2)) == "else"
    assert birth_level((None, None, None), (1990, 5, 17)) == "missing"
    # Beside a year-only date, a year one digit off (1925 ~ 1926, 1962 ~ 1982).
    assert birth_level((1926, None, None), (1925, 11, 3)) == "year_only_near"
    assert birth_level((1982, None, None), (1962, 7, 27)) == "year_only_near"
    assert birth_level((1929, None, None), (1930, 5, 1)) == "else"  # two digits


def test_name_levels_are_order_free_and_missing_is_no_evidence() -> None:
    assert name_level(("mia", "fenwick"), ("fenwick", "mia")) == "exact"
    assert name_level(tuple(tokens("Мухаммед Хасан")), ("mohammed", "hassan")) == "same_key"
    assert name_level(("mia", "fenwick"), ("mi", "fenwick")) == "one_and_near"
    assert name_level(("mia", "fenwick"), ("mia", "fenwich")) == "close"
    assert name_level(("mia", "fenwick"), ("sophie", "fenwick")) == "one_token"
    assert name_level(("mia", "fenwick"), ("ale", "c", "clarke")) == "else"
    assert name_level(("alec", "clarke"), ("ale", "c", "clarke")) == "same_key"  # split name
    assert name_level(("mia", "fenwick"), ("john", "smith")) == "else"
    assert name_level((), ("john", "smith")) == "missing"


def test_a_name_split_in_two_is_joined_back_where_it_agrees_better() -> None:
    # William as "Вил Лиам" (a space typed in, then rendered letter by letter).
    assert name_level(("vil", "liam", "shepkherd"), ("william", "shepherd")) == "same_key"
    assert name_level(("abdul", "rahman", "hassan"), ("abdulrahman", "hasan")) == "same_key"
    # Joined on the side with as many names: Jacob is shared, Miller is not there.
    assert name_level(("dzha", "kob"), ("jacob", "miller")) == "one_token"
    assert name_level(("mia", "fenwick"), ("vil", "liam")) == "else"


def test_one_shared_name_weighs_by_how_many_in_the_population_carry_it() -> None:
    common = {match_key("sarah"), match_key("campbell")}
    assert name_level(("sarah", "white"), ("sarah", "black"), common) == "one_token"
    assert name_level(("melaniye", "bouras"), ("bouras",), common) == "one_rare_token"
    assert name_level(("jade", "campbell"), ("cambpell",), common) == "one_token"  # a typo
    # A model fitted before the split has no population: one level for both.
    assert name_level(("melaniye", "bouras"), ("bouras",)) == "one_token"
    febrl = load_model("person-febrl-v1")
    assert febrl.weight_of("name", "one_rare_token") > febrl.weight_of("name", "one_token") + 2


def test_common_keys_are_the_names_on_a_share_of_the_reports() -> None:
    refs = [_ref(n, (1990, 1, 1)) for n in ("Sarah White", "Sara Black", "Omar Haddad", "Sarah")]
    assert common_keys(refs, rare_below=0.5) == [match_key("sarah")]
    assert set(common_keys(refs, rare_below=0.25)) >= {match_key("haddad"), match_key("white")}


def test_a_models_stamp_names_its_version_and_changes_with_what_decides_a_link() -> None:
    fields = load_model("person-febrl-v1").to_dict()
    stamp = Model(**fields).stamp
    assert stamp.startswith("person-febrl-v1/") and stamp == Model(**fields).stamp
    assert Model(**{**fields, "notes": ["refitted"], "trained_on": "elsewhere"}).stamp == stamp
    assert Model(**{**fields, "threshold": 0.5}).stamp != stamp
    weights = {**fields["m"], "birth": {**fields["m"]["birth"], "exact": 0.5}}
    assert Model(**{**fields, "m": weights}).stamp != stamp


def test_a_model_file_without_common_names_still_scores() -> None:
    fields = {**load_model("person-febrl-v1").to_dict()}
    del fields["common"]
    old = Model(**fields)
    match = old.score(_ref("Melaniye Bouras", (1997, 1, 2)), _ref("Bouras", (1997, None, None)))
    assert {c.comparison: c.level for c in match.contributions}["name"] == "one_token"


def test_a_model_file_without_a_split_level_weighs_it_as_the_level_it_came_from() -> None:
    fields = {**load_model("person-febrl-v1").to_dict()}
    for side in ("m", "u"):
        fields[side] = {**fields[side], "birth": dict(fields[side]["birth"])}
        del fields[side]["birth"]["year_only_near"]
    old = Model(**fields)
    assert old.weight_of("birth", "year_only_near") == old.weight_of("birth", "else") < 0
    new = load_model("person-febrl-v1")
    assert new.weight_of("birth", "else") < new.weight_of("birth", "year_only_near")


def test_a_document_of_one_issuer_with_another_number_is_a_conflict() -> None:
    assert document_level(("doc:UKR:AB1",), ("doc:UKR:CD2",)) == "conflict"
    assert document_level(("doc:UKR:AB1",), ("doc:POL:CD2",)) == "none"
    assert document_level(("phone:+3805",), ()) == "none"


def _ref(name: str, birth: tuple[int | None, ...], nat: str = "SYR", mid: str = "m1") -> PersonRef:
    toks = tuple(tokens(name))
    return PersonRef(mid, "P1", "ITA", "SMUGGLED_MIGRANT", " ".join(toks), toks, birth, (nat,), ())


def test_the_model_scores_with_its_reasons_and_missing_data_weighs_nothing() -> None:
    model = default_model()
    same = model.score(
        _ref("Mia Fenwick", (1990, 5, 17)), _ref("Fenwick Mia", (1990, 5, 17), mid="m2")
    )
    assert same.probability >= model.threshold
    why = same.explanation()
    assert any(w.startswith("name exact: +") for w in why)
    assert any(w.startswith("birth exact: +") for w in why)
    # A missing birth date contributes nothing (not a penalty).
    no_birth = model.score(
        _ref("Mia Fenwick", (None, None, None)), _ref("Mia Fenwick", (1990, 5, 17))
    )
    assert [c.weight for c in no_birth.contributions if c.comparison == "birth"] == [0.0]
    assert no_birth.probability < same.probability
    # Another person: another name and birth date.
    other = model.score(_ref("Mia Fenwick", (1990, 5, 17)), _ref("Omar Haddad", (1971, 2, 3)))
    assert other.probability < 0.01


def test_blocking_unions_keys_so_one_wrong_field_loses_no_candidate() -> None:
    a = blocking_keys(_ref("Mia Fenwick", (1990, 5, 17)))
    wrong_year = blocking_keys(_ref("Mia Fenwick", (1991, 5, 17)))
    no_birth = blocking_keys(_ref("Mia Fenwick", (None, None, None)))
    other_script = blocking_keys(_ref("Мия Фенвик", (1990, 5, 17)))
    for keys in (wrong_year, no_birth, other_script):
        assert set(a) & set(keys), keys


def test_two_name_keys_come_from_two_names() -> None:
    """A name and its own Arabic reading (Pavel: pl, bfl) are one name, not two."""
    keys = blocking_keys(_ref("Pavel Novak", (None, None, None)), ("kk", "kf"))
    pl, bfl, nk = match_key("pavel"), reading_key("pavel"), match_key("novak")
    assert {f"kf:{pl}:n", f"kf:{bfl}:n", f"kf:{nk}:p", f"kf:{nk}:b"} <= set(keys)
    assert "kk:{}:{}".format(*sorted((bfl, nk))) in keys
    assert f"kf:{pl}:b" not in keys and "kk:{}:{}".format(*sorted((bfl, pl))) not in keys
