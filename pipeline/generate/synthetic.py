"""Deterministic synthetic HST messages (``hst generate``): realistic shape, invented people.

The same seed gives the same output. What is controlled, for later stages to be tested:

- exact re-sends (same ``message_id``, same content: a gateway retry);
- content duplicates (same content under a new ``message_id``: a retry that minted a UUID);
- persons reused across messages and NCBs within one network (about ``network_messages``
  messages each, a few active at a time), rendered differently each time (Latin spelling
  variants, original script, swapped name order, a typo, a year-only birth date, document
  numbers and phones written in other formats), with their true identity in ``truth``;
- each network working one corridor (``NETWORK_ROUTE_SHARE`` of its messages on its own
  route, the others on a route from the same origin): drawn per message, routes spread
  every network over the whole map (30-39 countries each), which no analyst would believe;
- no two invented people with the same name, birth date and nationality: such namesakes
  look like one person to any matcher (they merged unrelated networks), and they are rare
  in real reporting at these volumes;
- UPDATE and WITHDRAW messages that supersede earlier ones.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import pycountry

from pipeline.core.coerce import to_json
from pipeline.generate import names
from pipeline.generate.geography import PLACES, ROUTES, RouteTemplate

DEFAULT_UNTIL = dt.datetime(2026, 10, 31, tzinfo=dt.UTC)
UTC = dt.UTC

ACTIVE_NETWORKS = 20  # networks a new message may be about (older ones have gone quiet)
NETWORK_ROUTE_SHARE = 0.9  # messages of a network on its own corridor
FACILITATOR_ROLES = ["SMUGGLER", "TRANSPORTER", "RECRUITER", "BROKER", "FACILITATOR", "FINANCIER"]
TRAFFICKER_ROLES = ["RECRUITER", "EXPLOITER", "TRANSPORTER"]
CONTROL = ["DEBT_BONDAGE", "FALSE_PROMISES", "WITHHOLDS_DOCUMENTS", "PHYSICAL_THREATS",
           "TAKES_EARNINGS", "PSYCHOLOGICAL_ABUSE"]  # fmt: skip


@dataclass
class GeneratorConfig:
    """How much of what to generate."""

    count: int
    seed: int = 1
    until: dt.datetime = DEFAULT_UNTIL
    days: int = 540
    resend_share: float = 0.05
    content_duplicate_share: float = 0.03
    update_share: float = 0.02
    withdraw_share: float = 0.01
    reuse_share: float = 0.35
    # Messages per smuggling or trafficking network, on average: a reused person is drawn from
    # the people of the message's own network. Drawn from everyone ever generated, reuse
    # joined 2,565 of 3,000 messages into one connected network (a random graph percolates),
    # which real reporting does not look like and which made the network stage rewrite most
    # documents at every merge.
    network_messages: int = 25


@dataclass
class Identity:
    """A true person behind possibly many differently written reports."""

    key: str
    nationality: str
    sex: str
    script: str
    given: names.NameEntry
    family: names.NameEntry
    birth: dt.date
    document: tuple[str, str]  # (number, issuing country)
    phone_e164: str
    facilitator: bool


@dataclass
class Network:
    """A smuggling or trafficking network: its corridor and its people by role."""

    route: RouteTemplate
    people: dict[bool, list[Identity]] = field(default_factory=lambda: {True: [], False: []})


@dataclass
class Generated:
    """Messages in publication order, and the ground truth behind them."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    # message_id -> {person_id -> identity key}
    truth: dict[str, dict[str, str]] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)


def _alpha2(alpha3: str) -> str:
    country = pycountry.countries.get(alpha_3=alpha3)
    return str(country.alpha_2) if country else "ZZ"


class Generator:
    """Builds messages one by one from a seeded random source."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.cfg = config
        self.rng = random.Random(config.seed)
        self.identities: list[Identity] = []
        self._networks: list[Network] = []
        self._namesakes: set[tuple[str, str, dt.date, str]] = set()
        self._phone_cache: dict[str, tuple[int, str]] = {}
        self._issued: set[str] = set()  # phones and document numbers are unique per identity
        self._counter = 0

    # -- identities ---------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _identity(self, nationality: str, facilitator: bool, minor_ok: bool) -> Identity:
        rng = self.rng
        script, group = names.NATIONALITY_NAMES.get(nationality, ("Latn", "west_africa_en"))
        sex = rng.choice(
            ["MALE", "MALE", "FEMALE"] if not facilitator else ["MALE"] * 5 + ["FEMALE"]
        )
        if group == "arabic":
            given = rng.choice(names.ARABIC_MALE if sex == "MALE" else names.ARABIC_FEMALE)
            family = rng.choice(names.ARABIC_FAMILY)
        elif group == "cyrillic":
            given = rng.choice(names.CYRILLIC_MALE if sex == "MALE" else names.CYRILLIC_FEMALE)
            family = rng.choice(names.CYRILLIC_FAMILY)
            if sex == "FEMALE" and family[0].endswith("ов"):
                family = (family[0] + "а", [v + "a" for v in family[1]])
        else:
            given = rng.choice((names.LATIN_MALE if sex == "MALE" else names.LATIN_FEMALE)[group])
            family = rng.choice(names.LATIN_FAMILY[group])
        age = (
            rng.randint(24, 55)
            if facilitator
            else rng.choice([rng.randint(14, 17), *[rng.randint(18, 40)] * 5])
        )
        if not minor_ok:
            age = max(age, 18)
        birth = dt.date(self.cfg.until.year - age, rng.randint(1, 12), rng.randint(1, 28))
        while (given[0], family[0], birth, nationality) in self._namesakes:
            birth = dt.date(birth.year, rng.randint(1, 12), rng.randint(1, 28))
        self._namesakes.add((given[0], family[0], birth, nationality))
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        doc = (f"{letters}{rng.randint(0, 9_999_999):07d}", nationality)
        while doc[0] in self._issued:
            doc = (f"{letters}{rng.randint(0, 9_999_999):07d}", nationality)
        self._issued.add(doc[0])
        self._counter += 1
        return Identity(f"I{self._counter:06d}", nationality, sex, script, given, family, birth,
                        doc, self._phone(nationality), facilitator)  # fmt: skip

    def _phone(self, country: str) -> str:
        if country not in self._phone_cache:
            region = _alpha2(country)
            mobile = phonenumbers.PhoneNumberType.MOBILE
            example = phonenumbers.example_number_for_type(region, mobile)
            if example is None:  # every region in our geography has one; Italy as a fallback
                example = phonenumbers.example_number_for_type("IT", mobile)
            assert example is not None and example.country_code is not None
            self._phone_cache[country] = (int(example.country_code), str(example.national_number))
        code, national = self._phone_cache[country]
        keep = max(3, len(national) - 5)
        for _ in range(200):
            candidate = national[:keep] + "".join(
                str(self.rng.randint(0, 9)) for _ in national[keep:]
            )
            number = phonenumbers.PhoneNumber(country_code=code, national_number=int(candidate))
            e164 = f"+{code}{candidate}"
            if phonenumbers.is_valid_number(number) and e164 not in self._issued:
                self._issued.add(e164)
                return e164
        msg = f"no unused phone number left for {country}"
        raise RuntimeError(msg)

    def _pick_network(self) -> Network:
        """The network a new message is about: a new one now and then, else an active one."""
        if not self._networks or self.rng.random() < 1 / max(1, self.cfg.network_messages):
            self._networks.append(Network(self.rng.choice(ROUTES)))
        first_active = max(0, len(self._networks) - ACTIVE_NETWORKS)
        return self._networks[self.rng.randrange(first_active, len(self._networks))]

    def _route_of(self, network: Network) -> RouteTemplate:
        """The network's corridor, now and then another route from the same origin."""
        if self.rng.random() < NETWORK_ROUTE_SHARE:
            return network.route
        origin = network.route.countries[0]
        return self.rng.choice([r for r in ROUTES if r.countries[0] == origin])

    def _pick_identity(
        self, nationality: str, facilitator: bool, minor_ok: bool, network: Network
    ) -> Identity:
        pool = network.people[facilitator]
        if pool and self.rng.random() < self.cfg.reuse_share:
            return self.rng.choice(pool)
        ident = self._identity(nationality, facilitator, minor_ok)
        self.identities.append(ident)
        pool.append(ident)
        return ident

    # -- rendering a person as one NCB reports them -------------------------------------
    def _render_person(self, ident: Identity, person_id: str, role: str, reporter: str,
                       event_date: dt.date) -> dict[str, Any]:  # fmt: skip
        rng = self.rng
        given = rng.choice(ident.given[1])
        family = rng.choice(ident.family[1])
        if rng.random() < 0.08:  # a typo: one letter doubled or dropped
            i = rng.randrange(1, len(family))
            family = (
                family[:i] + family[i - 1 :] if rng.random() < 0.5 else family[:i] + family[i + 1 :]
            )
        name: dict[str, Any] = {"given_name": given, "family_name": family}
        if rng.random() < 0.1:  # swapped order: family name entered as given name
            name = {"given_name": family, "family_name": given}
        if ident.script != "Latn" and rng.random() < 0.6:
            name["original_script_name"] = f"{ident.given[0]} {ident.family[0]}"
            name["script"] = ident.script
        birth: dict[str, Any] | None = {"year": ident.birth.year, "month": ident.birth.month,
                                        "day": ident.birth.day}  # fmt: skip
        r = rng.random()
        if r < 0.15:
            birth = {"year": ident.birth.year}
        elif r < 0.22:
            birth = {"year": ident.birth.year, "month": ident.birth.month}
        elif r < 0.30:
            birth = None
        person: dict[str, Any] = {"person_id": person_id, "role": role, "name": name,
                                  "sex": ident.sex, "nationalities": [ident.nationality]}  # fmt: skip
        if birth:
            person["birth_date"] = birth
        if rng.random() < 0.6:
            number, issuer = ident.document
            shown = rng.choice(
                [number, number.lower(), f"{number[:2]} {number[2:]}", f"{number[:2]}-{number[2:]}"]
            )
            status = "GENUINE"
            if ident.facilitator and rng.random() < 0.3:
                status = rng.choice(["FRAUDULENT", "COUNTERFEIT", "STOLEN"])
            person["documents"] = [{"document_type": "PASSPORT", "number": shown,
                                    "issuing_country": issuer, "status": status}]  # fmt: skip
        if rng.random() < (0.8 if ident.facilitator else 0.4):
            parsed = phonenumbers.parse(ident.phone_e164)
            fmt = rng.choice([phonenumbers.PhoneNumberFormat.NATIONAL,
                              phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                              phonenumbers.PhoneNumberFormat.E164])  # fmt: skip
            written = phonenumbers.format_number(parsed, fmt)
            phone: dict[str, Any] = {"number": written}
            if fmt == phonenumbers.PhoneNumberFormat.NATIONAL:
                phone["country"] = ident.nationality
            person["phones"] = [phone]
        if ident.facilitator and rng.random() < 0.3:
            handle = f"{given.lower().replace(' ', '')}{int(ident.key[1:])}"
            person["online_accounts"] = [{"platform": rng.choice(["WhatsApp", "Telegram", "Facebook"]),
                                          "handle": handle}]  # fmt: skip
        return person

    # -- one message --------------------------------------------------------------------
    def _message(self) -> tuple[dict[str, Any], dict[str, str]]:
        rng = self.rng
        network = self._pick_network()
        route = self._route_of(network)
        countries = list(route.countries)
        reporter = rng.choice(countries[1:] if len(countries) > 1 else countries)
        event = self.cfg.until - dt.timedelta(days=rng.uniform(2, self.cfg.days))
        created = min(event + dt.timedelta(days=rng.uniform(0.1, 20)), self.cfg.until)
        event_date = event.date()
        # Route events: recruitment/departure at origin, transits, then the reporting point.
        events = []
        reach = countries[: countries.index(reporter) + 1]
        gaps = [rng.randint(2, 30) for _ in reach]
        for i, country in enumerate(reach):
            place, lat, lon = rng.choice(PLACES[country])
            kind = "RECRUITMENT" if i == 0 else "TRANSIT"
            if country == reporter:
                kind = "INTERCEPTION" if route.incident_type == "SMUGGLING" else "EXPLOITATION"
            ev: dict[str, Any] = {"event_type": kind, "country": country, "place": place,
                                  "date": (event_date - dt.timedelta(days=sum(gaps[i + 1 :]))).isoformat()}  # fmt: skip
            if rng.random() < 0.7:
                ev["latitude"] = round(lat + rng.uniform(-0.05, 0.05), 5)
                ev["longitude"] = round(lon + rng.uniform(-0.05, 0.05), 5)
            events.append(ev)
        dead = 0
        if route.sea_leg and rng.random() < 0.12:
            dead = rng.randint(1, 40)
            events.append({"event_type": "DEATH_OR_MISSING", "country": reporter,
                           "date": event_date.isoformat(), "place": "at sea"})  # fmt: skip
        truth: dict[str, str] = {}
        persons = []
        trafficking = route.incident_type != "SMUGGLING"
        roles = TRAFFICKER_ROLES if trafficking else FACILITATOR_ROLES
        for n in range(rng.choice([1, 1, 2])):
            ident = self._pick_identity(rng.choice(countries[:2]), True, False, network)
            pid = f"P{n + 1}"
            persons.append(self._render_person(ident, pid, rng.choice(roles), reporter, event_date))
            truth[pid] = ident.key
        facilitator_ids = [p["person_id"] for p in persons]
        for _ in range(rng.randint(1, 5)):
            ident = self._pick_identity(countries[0], False, True, network)
            pid = f"P{len(persons) + 1}"
            role = "VICTIM" if trafficking else "SMUGGLED_MIGRANT"
            person = self._render_person(ident, pid, role, reporter, event_date)
            person["links"] = [{"person_id": rng.choice(facilitator_ids),
                                "relation": "RECRUITED_BY" if trafficking else "SMUGGLED_BY"}]  # fmt: skip
            persons.append(person)
            truth[pid] = ident.key
        minor = any(self._is_minor(self._ident(truth[p["person_id"]]), event_date) for p in persons)
        codes = rng.choice([["H1"], ["H1"], ["H0"], ["H2"], ["H1", "H3"]])
        handling: dict[str, Any] = {"handling_codes": codes,
                                    "source_reliability": rng.choice("ABBCX"),
                                    "information_accuracy": rng.randint(1, 4),
                                    "contains_minor": minor}  # fmt: skip
        if rng.random() < 0.1:
            handling["dissemination_denylist"] = [
                rng.choice([c for c in countries if c != reporter])
            ]
        elif rng.random() < 0.05:
            handling["dissemination_allowlist"] = sorted({reporter, countries[-1]})
        incident: dict[str, Any] = {"incident_type": route.incident_type}
        if trafficking:
            incident["exploitation_types"] = list(route.exploitation)
            incident["control_methods"] = rng.sample(CONTROL, k=rng.randint(1, 3))
        incident["narrative"] = (
            f"{len(persons) - len(facilitator_ids)} person(s) from {countries[0]} "
            f"{'intercepted' if not trafficking else 'identified as victims'} near "
            f"{events[-1]['place']}; {'smuggling' if not trafficking else 'trafficking'} via "
            f"{', '.join(countries[1:-1]) or 'direct route'} towards {countries[-1]}."
        )
        incident["narrative_language"] = "en"
        if dead:
            incident["dead_count"] = dead
            incident["missing_count"] = rng.randint(0, 20)
            incident["cause_of_death"] = "Drowning"
        message: dict[str, Any] = {
            "message_id": self._uuid(),
            "source_ncb": reporter,
            "created_at": created,
            "event_time": event,
            "action": "CREATE",
            "case_refs": [f"{reporter}-{event.year}-{rng.randint(1000, 99999)}"],
            "handling": handling,
            "incident": incident,
            "route": {
                "origin_country": countries[0],
                "transit_countries": countries[1:-1],
                "destination_country": countries[-1],
                "events": events,
            },
            "persons": persons,
        }
        if rng.random() < 0.2:
            message["operation_name"] = rng.choice(
                ["BLUE AMBER", "NORTHERN LIGHT", "SEA HORSE", "ORION"]
            )
        if route.sea_leg and rng.random() < 0.25:
            message["vessels"] = [{"name": rng.choice(["AL-NOUR", "SEA STAR", "GOOD HOPE", None]),
                                   "imo": f"{rng.randint(9_000_000, 9_999_999)}",
                                   "mmsi": f"{rng.randint(200_000_000, 799_999_999)}",
                                   "flag": rng.choice(["TGO", "SLE", "LBY", "TUR"])}]  # fmt: skip
        if not route.sea_leg and rng.random() < 0.3:
            message["vehicles"] = [{"plate": f"{rng.choice('ABCDEFGH')}{rng.randint(100, 999)}"
                                             f"{rng.choice('KLMNPR')}{rng.choice('STUVWX')}",
                                    "country": rng.choice(countries[1:]), "make": rng.choice(["Ford", "Iveco", "Mercedes-Benz"])}]  # fmt: skip
        if rng.random() < 0.25:
            message["payments"] = [{"amount": float(rng.choice([800, 1500, 2500, 3000, 5000])),
                                    "currency": rng.choice(["EUR", "USD"]),
                                    "channel": rng.choice(["CASH", "HAWALA", "MONEY_TRANSFER_OPERATOR"]),
                                    "payer_person_id": persons[-1]["person_id"],
                                    "payee_person_id": facilitator_ids[0]}]  # fmt: skip
        return message, truth

    def _ident(self, key: str) -> Identity:
        return self.identities[int(key[1:]) - 1]

    @staticmethod
    def _is_minor(ident: Identity, on: dt.date) -> bool:
        age = (
            on.year - ident.birth.year - ((on.month, on.day) < (ident.birth.month, ident.birth.day))
        )
        return age < 18

    # -- the whole run -----------------------------------------------------------------
    def run(self) -> Generated:
        """Generate ``count`` records (including re-sends, duplicates, updates, withdrawals)."""
        cfg, rng = self.cfg, self.rng
        out = Generated()
        kinds = dict.fromkeys(["create", "resend", "content_duplicate", "update", "withdraw"], 0)
        originals: list[dict[str, Any]] = []  # every message with its own content
        live: list[dict[str, Any]] = []  # CREATE/UPDATE messages not withdrawn or superseded
        cut_resend = cfg.resend_share
        cut_dup = cut_resend + cfg.content_duplicate_share
        cut_update = cut_dup + cfg.update_share
        cut_withdraw = cut_update + cfg.withdraw_share
        while len(out.messages) < cfg.count:
            r = rng.random()
            if live and r < cut_resend:
                msg, kind = copy.deepcopy(rng.choice(originals)), "resend"
            elif live and r < cut_dup:
                base = rng.choice(live)
                msg = copy.deepcopy(base)
                msg["message_id"] = self._uuid()
                msg["created_at"] = min(
                    msg["created_at"] + dt.timedelta(seconds=rng.randint(5, 600)), cfg.until
                )
                kind = "content_duplicate"
                out.truth[msg["message_id"]] = out.truth[base["message_id"]]
            elif live and r < cut_update:
                base = live.pop(rng.randrange(len(live)))
                msg = copy.deepcopy(base)
                msg["message_id"], msg["action"] = self._uuid(), "UPDATE"
                msg["supersedes_message_id"] = base["message_id"]
                msg["created_at"] = cfg.until - dt.timedelta(hours=rng.uniform(1, 48))
                msg["incident"]["narrative"] += " Update: further persons identified."
                kind = "update"
                out.truth[msg["message_id"]] = out.truth[base["message_id"]]
                originals.append(msg)
                live.append(msg)
            elif live and r < cut_withdraw:
                base = live.pop(rng.randrange(len(live)))
                msg = copy.deepcopy(base)
                msg["message_id"], msg["action"] = self._uuid(), "WITHDRAW"
                msg["supersedes_message_id"] = base["message_id"]
                msg["created_at"] = cfg.until - dt.timedelta(minutes=rng.uniform(1, 60))
                kind = "withdraw"
                out.truth[msg["message_id"]] = {}
                originals.append(msg)
            else:
                msg, truth = self._message()
                out.truth[msg["message_id"]] = truth
                originals.append(msg)
                live.append(msg)
                kind = "create"
            kinds[kind] += 1
            out.messages.append(msg)
        out.kinds = kinds
        return out


def generate(config: GeneratorConfig) -> Generated:
    """Run a generator; messages are friendly JSON (ISO timestamps), ready for ``hst publish``."""
    result = Generator(config).run()
    result.messages = [to_json(m) for m in result.messages]
    return result


def iter_ndjson(result: Generated) -> Iterator[str]:
    """One JSON line per message."""
    import json

    for m in result.messages:
        yield json.dumps(m, ensure_ascii=False, separators=(",", ":"))
