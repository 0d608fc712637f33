"""Invented-name banks for synthetic data: common given and family names, no real persons.

Each entry is (original-script form, [Latin spellings seen in practice]).
"""

from __future__ import annotations

NameEntry = tuple[str, list[str]]

ARABIC_MALE: list[NameEntry] = [
    ("محمد", ["Mohammed", "Muhammad", "Mohamed", "Mohamad"]),
    ("أحمد", ["Ahmed", "Ahmad"]),
    ("علي", ["Ali"]),
    ("عمر", ["Omar", "Umar"]),
    ("يوسف", ["Youssef", "Yusuf", "Yousef"]),
    ("حسن", ["Hassan", "Hasan"]),
    ("إبراهيم", ["Ibrahim", "Ebrahim"]),
    ("خالد", ["Khaled", "Khalid"]),
    ("مصطفى", ["Mustafa", "Moustafa"]),
    ("عبدالله", ["Abdullah", "Abdallah"]),
]
ARABIC_FEMALE: list[NameEntry] = [
    ("فاطمة", ["Fatima", "Fatma"]),
    ("عائشة", ["Aisha", "Aicha"]),
    ("مريم", ["Maryam", "Mariam"]),
    ("زينب", ["Zainab", "Zeinab"]),
    ("نور", ["Nour", "Noor"]),
]
ARABIC_FAMILY: list[NameEntry] = [
    ("الحسن", ["Al-Hassan", "Alhassan", "El Hassan"]),
    ("حداد", ["Haddad"]),
    ("منصور", ["Mansour", "Mansur"]),
    ("السيد", ["El-Sayed", "Elsayed", "Al Sayed"]),
    ("عثمان", ["Osman", "Othman"]),
    ("صالح", ["Saleh", "Salih"]),
    ("إدريس", ["Idris", "Idriss"]),
    ("جابر", ["Jaber", "Jabir"]),
    ("النجار", ["Al-Najjar", "Najjar"]),
    ("قاسم", ["Kassem", "Qasim"]),
]
CYRILLIC_MALE: list[NameEntry] = [
    ("Иван", ["Ivan"]),
    ("Сергей", ["Sergei", "Sergey"]),
    ("Алексей", ["Alexei", "Aleksey"]),
    ("Дмитрий", ["Dmitri", "Dmitry"]),
    ("Мухаммед", ["Mukhammed", "Muhammed"]),
    ("Андрей", ["Andrei", "Andriy"]),
]
CYRILLIC_FEMALE: list[NameEntry] = [
    ("Ольга", ["Olga"]),
    ("Наталья", ["Natalia", "Natalya"]),
    ("Юлия", ["Yulia", "Iuliia"]),
    ("Анна", ["Anna"]),
]
CYRILLIC_FAMILY: list[NameEntry] = [
    ("Петров", ["Petrov"]),
    ("Иванов", ["Ivanov"]),
    ("Смирнов", ["Smirnov"]),
    ("Кузнецов", ["Kuznetsov", "Kouznetsov"]),
    ("Ковальчук", ["Kovalchuk", "Kowalczuk"]),
    ("Шевченко", ["Shevchenko", "Chevtchenko"]),
]
LATIN_MALE: dict[str, list[NameEntry]] = {
    "west_africa_en": [("Chinedu", ["Chinedu"]), ("Emeka", ["Emeka"]), ("Tunde", ["Tunde"]),
                       ("Kwame", ["Kwame"]), ("Samuel", ["Samuel"])],
    "west_africa_fr": [("Amadou", ["Amadou", "Ahmadou"]), ("Mamadou", ["Mamadou"]),
                       ("Moussa", ["Moussa", "Musa"]), ("Ousmane", ["Ousmane", "Usman"])],
    "horn": [("Tesfay", ["Tesfay", "Tesfaye"]), ("Yonas", ["Yonas", "Yonatan"]),
             ("Yohannes", ["Yohannes", "Johannes"]), ("Abdi", ["Abdi"])],
    "vietnam": [("Van An", ["Van An"]), ("Minh", ["Minh"]), ("Duc", ["Duc"])],
}  # fmt: skip
LATIN_FEMALE: dict[str, list[NameEntry]] = {
    "west_africa_en": [("Blessing", ["Blessing"]), ("Joy", ["Joy"]), ("Precious", ["Precious"])],
    "west_africa_fr": [("Fatoumata", ["Fatoumata", "Fatumata"]), ("Aminata", ["Aminata"])],
    "horn": [("Semhar", ["Semhar"]), ("Hodan", ["Hodan"]), ("Selam", ["Selam", "Salam"])],
    "vietnam": [("Thi Lan", ["Thi Lan"]), ("Hoa", ["Hoa"])],
}  # fmt: skip
LATIN_FAMILY: dict[str, list[NameEntry]] = {
    "west_africa_en": [("Okafor", ["Okafor"]), ("Eze", ["Eze"]), ("Adeyemi", ["Adeyemi"]),
                       ("Mensah", ["Mensah"]), ("Okonkwo", ["Okonkwo"])],
    "west_africa_fr": [("Diallo", ["Diallo", "Jallow"]), ("Traoré", ["Traore", "Traoré"]),
                       ("Coulibaly", ["Coulibaly", "Kulibali"]), ("Camara", ["Camara", "Kamara"])],
    "horn": [("Haile", ["Haile"]), ("Tesfamariam", ["Tesfamariam", "Tesfa Mariam"]),
             ("Gebremedhin", ["Gebremedhin", "Ghebremedhin"]), ("Mohamud", ["Mohamud", "Mohamoud"])],
    "vietnam": [("Nguyen", ["Nguyen"]), ("Tran", ["Tran"]), ("Pham", ["Pham"])],
}  # fmt: skip

# Nationality → (script, name group). Arabic script for Arab countries and Afghanistan.
NATIONALITY_NAMES: dict[str, tuple[str, str]] = {
    "SYR": ("Arab", "arabic"), "IRQ": ("Arab", "arabic"), "EGY": ("Arab", "arabic"),
    "LBY": ("Arab", "arabic"), "SDN": ("Arab", "arabic"), "MAR": ("Arab", "arabic"),
    "TUN": ("Arab", "arabic"), "AFG": ("Arab", "arabic"),
    "RUS": ("Cyrl", "cyrillic"), "UKR": ("Cyrl", "cyrillic"),
    "NGA": ("Latn", "west_africa_en"), "GHA": ("Latn", "west_africa_en"),
    "SEN": ("Latn", "west_africa_fr"), "GIN": ("Latn", "west_africa_fr"),
    "MLI": ("Latn", "west_africa_fr"), "CIV": ("Latn", "west_africa_fr"),
    "ERI": ("Latn", "horn"), "ETH": ("Latn", "horn"), "SOM": ("Latn", "horn"),
    "VNM": ("Latn", "vietnam"),
}  # fmt: skip
