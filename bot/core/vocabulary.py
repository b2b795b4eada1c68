"""The words members use to say when, in French and English, in one place.

Every table is keyed by *folded* text (``fold``: lower case, no accents, straight apostrophes, plain
hyphens), so "Après-midi", "apres-midi" and "APRES MIDI" are one entry. Multi-word phrases are written
with spaces or hyphens; ``phrase_variants`` gives the spellings people type for each (with a hyphen,
with a space, glued). The grammar that uses these tables is ``bot.core.dates``; command pieces
(space opening hours, rota days) use the weekday tables directly.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-", "‐": "-", "‑": "-",
                            "\u00a0": " ", "\u202f": " "})


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case without accents, one kind of apostrophe and hyphen: the form every table is keyed by.
    Folding keeps one character per character for Latin letters, so positions can be mapped back."""
    text = text.translate(_TRANSLATE).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Weekdays: Monday is 0, as date.weekday().
WEEKDAYS_FULL: dict[str, int] = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
# Abbreviations are also ordinary words ("Sam", "jeu", "mer", "sun"): the grammar accepts one only next
# to a number, an hour or a part of the day ("sam 10h", "lun. 3"), or written with its dot ("sam.").
WEEKDAYS_SHORT: dict[str, int] = {
    "lun": 0, "mar": 1, "mer": 2, "merc": 2, "jeu": 3, "ven": 4, "vend": 4, "sam": 5, "dim": 6,
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6,
}
WEEKDAYS: dict[str, int] = {**WEEKDAYS_FULL, **WEEKDAYS_SHORT}
# Common typos of the full names, read as the day they obviously mean.
WEEKDAY_TYPOS: dict[str, int] = {
    "mecredi": 2, "mercedi": 2, "vendedi": 4, "vendrdi": 4, "samdi": 5, "dimache": 6, "wenesday": 2,
    "wednsday": 2, "thusday": 3, "thrusday": 3, "saterday": 5,
}
# "les lundis", "mondays": a repetition, which no single moment reads (refused).
WEEKDAYS_PLURAL: dict[str, int] = {
    "lundis": 0, "mardis": 1, "mercredis": 2, "jeudis": 3, "vendredis": 4, "samedis": 5, "dimanches": 6,
    "mondays": 0, "tuesdays": 1, "wednesdays": 2, "thursdays": 3, "fridays": 4, "saturdays": 5, "sundays": 6,
}
WEEKDAY_NAMES_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
WEEKDAY_NAMES_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def weekday_of(word: str) -> int | None:
    """'mar.', 'Mardi', 'tue', 'Tuesday' -> 1; anything else -> None (for settings like ``mar=14:00-19:00``)."""
    key = fold(word).strip().rstrip(".")
    return WEEKDAYS.get(key, WEEKDAY_TYPOS.get(key))


MONTHS_FULL: dict[str, int] = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}
MONTHS_SHORT: dict[str, int] = {
    "janv": 1, "jan": 1, "fev": 2, "fevr": 2, "feb": 2, "avr": 4, "apr": 4, "juil": 7, "jul": 7, "jun": 6,
    "aug": 8, "sept": 9, "sep": 9, "oct": 10, "nov": 11, "dec": 12, "mar": 3,
}
MONTHS: dict[str, int] = {**MONTHS_FULL, **MONTHS_SHORT}

# Days named relative to today (value: days from today).
RELATIVE_DAYS: dict[str, int] = {
    "aujourd'hui": 0, "aujourdhui": 0, "aujourd hui": 0, "auj": 0, "ajd": 0, "today": 0, "tdy": 0,
    "demain": 1, "dmain": 1, "dem": 1, "2main": 1, "tmw": 1,
    "tomorrow": 1, "tmrw": 1, "tmr": 1, "tomorow": 1, "tommorow": 1, "tommorrow": 1,
    "apres-demain": 2, "apres demain": 2, "day after tomorrow": 2, "the day after tomorrow": 2,
    "hier": -1, "yesterday": -1, "yday": -1,
    "avant-hier": -2, "avant hier": -2, "day before yesterday": -2, "the day before yesterday": -2,
}

# Parts of the day: the name a When carries and the hours a bare "8" means in it.
MORNING, AFTERNOON, EVENING, NIGHT = "morning", "afternoon", "evening", "night"
PERIODS: dict[str, str] = {
    "matin": MORNING, "matinee": MORNING, "morning": MORNING, "mat": MORNING,
    "apres-midi": AFTERNOON, "aprem": AFTERNOON, "aprems": AFTERNOON, "apres midi": AFTERNOON,
    "aprem's": AFTERNOON, "ap-midi": AFTERNOON, "afternoon": AFTERNOON, "arvo": AFTERNOON,
    "soir": EVENING, "soiree": EVENING, "evening": EVENING, "eve": EVENING,
    "nuit": NIGHT, "night": NIGHT,
}
# "demain toute la journée": the whole day, which a day alone already means (what /free shows; /book then asks
# the hours): read, so that it is not left over as unknown words, and adds nothing.
WHOLE_DAY = {
    "toute la journee", "toute la journee entiere", "la journee entiere", "journee entiere", "la journee complete",
    "journee complete", "toute la journee complete", "all day", "all day long", "the whole day", "whole day",
    "the full day", "full day", "the entire day", "entire day",
}
# "ce soir", "tonight"...: today with a part of the day.
TODAY_PERIODS: dict[str, str] = {
    "ce matin": MORNING, "this morning": MORNING,
    "cet apres-midi": AFTERNOON, "cet apres midi": AFTERNOON, "cet aprem": AFTERNOON, "cette apres-midi": AFTERNOON,
    "cette aprem": AFTERNOON, "this afternoon": AFTERNOON,
    "ce soir": EVENING, "this evening": EVENING, "tonight": EVENING, "tonite": EVENING, "2night": EVENING,
    "cette nuit": NIGHT,
}
# Yesterday with a part of the day, as one phrase ("hier soir" is read as two words).
YESTERDAY_PERIODS: dict[str, str] = {"last night": EVENING, "yesterday night": EVENING}
# How a part of the day qualifies a stated hour: "8h du soir" = 20:00, "3 in the afternoon" = 15:00.
PERIOD_QUALIFIERS: dict[str, str] = {
    "du matin": MORNING, "in the morning": MORNING,
    "de l'apres-midi": AFTERNOON, "de l'apres midi": AFTERNOON, "de l'aprem": AFTERNOON,
    "in the afternoon": AFTERNOON,
    "du soir": EVENING, "in the evening": EVENING, "at night": NIGHT, "de la nuit": NIGHT,
}
# The hours a stated start may have in each part of the day (from, to excluded): "samedi matin 15h" is
# refused. Generous on purpose: "ce soir 17h" and "cet aprem 12h30" are fine.
PERIOD_HOURS: dict[str, tuple[int, int]] = {
    MORNING: (4, 13), AFTERNOON: (12, 20), EVENING: (16, 25), NIGHT: (19, 25),
}
# What a part of the day means when no hour is said (local "HH:MM", from, to): what /free shows for
# "demain aprem", the hours a sentence such as "qu'est-ce qui est libre demain matin" asks about.
PERIOD_SPANS: dict[str, tuple[str, str]] = {
    MORNING: ("09:00", "12:00"), AFTERNOON: ("14:00", "18:00"), EVENING: ("18:00", "22:00"), NIGHT: ("20:00", "23:00"),
}
# Hours offered when a reminder names a day or a part of the day but no hour.
PERIOD_SUGGESTIONS: dict[str | None, tuple[str, ...]] = {
    None: ("09:00", "12:00", "18:00"), MORNING: ("08:00", "09:00", "10:00"),
    AFTERNOON: ("14:00", "15:00", "16:00"), EVENING: ("18:00", "19:00", "20:00"), NIGHT: ("21:00", "22:00", "23:00"),
}

NOON = {"midi", "noon", "midday"}
MIDNIGHT = {"minuit", "midnight"}

# Number words. "un"/"une"/"a"/"an" are 1 only in front of a unit ("une heure", "an hour").
NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16, "dix-sept": 17, "dix-huit": 18, "dix-neuf": 19, "vingt": 20, "vingt et un": 21,
    "vingt-et-un": 21, "vingt-deux": 22, "vingt-trois": 23, "vingt-quatre": 24, "vingt-cinq": 25,
    "trente": 30, "quarante": 40, "quarante-cinq": 45, "cinquante": 50,
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "twenty-five": 25,
    "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50,
}
# Words that are numbers only before a unit; on their own they are ordinary words.
ARTICLE_NUMBERS = {"un", "une", "a", "an", "one"}
# Ordinal endings after a day number: 1er, 2e, 2eme, 15th, 3rd...
ORDINAL_SUFFIXES = {"er", "ere", "re", "e", "eme", "em", "st", "nd", "rd", "th"}

# Durations.
HOUR_UNITS = {"h", "hr", "hrs", "hour", "hours", "heure", "heures", "hre", "hres"}
MINUTE_UNITS = {"min", "mins", "minute", "minutes", "mn", "mns"}
DAY_UNITS = {"jour", "jours", "j", "day", "days"}
WEEK_UNITS = {"semaine", "semaines", "sem", "week", "weeks", "wk", "wks"}
MONTH_UNITS = {"mois", "month", "months"}
HALF_WORDS = {"demie", "demi", "half"}
QUARTER_WORDS = {"quart", "quarter"}
# "une demi-heure", "half an hour", "un quart d'heure", "a quarter of an hour": fixed phrases.
DURATION_PHRASES: dict[str, int] = {
    "une demi-heure": 30, "une demi heure": 30, "demi-heure": 30, "demi heure": 30, "1/2 heure": 30,
    "1/2h": 30, "half an hour": 30, "half-an-hour": 30, "a half hour": 30, "half hour": 30,
    "un quart d'heure": 15, "quart d'heure": 15, "1/4 d'heure": 15, "1/4h": 15, "a quarter of an hour": 15,
    "quarter of an hour": 15, "a quarter hour": 15, "trois quarts d'heure": 45, "3/4 d'heure": 45, "3/4h": 45,
    "three quarters of an hour": 45,
}

# Connectors.
RANGE_OPENERS = {"de", "du", "from", "entre", "between", "a partir de", "des", "starting", "since"}
RANGE_SEPARATORS = {"-", "a", "au", "to", "till", "til", "until", "jusqu'a", "jusqua", "jusqu a", "->", "et",
                    "and", "jusque", "thru", "through", "~"}
# "entre X et Y" and "between X and Y" need their own separator.
PAIRED_SEPARATORS = {"entre": {"et"}, "between": {"and", "-"}}
AT_WORDS = {"a", "at", "vers", "around", "@", "pour", "for", "des", "from", "a partir de", "starting at",
            "about", "environ", "aux alentours de", "sur les"}
DURATION_INTRO = {"pendant", "pour", "durant", "for", "during", "sur"}
IN_WORDS = {"dans", "in", "d'ici", "d ici", "within"}
AGO_BEFORE = {"il y a"}
AGO_AFTER = {"ago", "plus tot"}
NEXT_WORDS = {"prochain", "prochaine", "pro", "proch", "next", "qui vient", "d'apres", "suivant", "suivante"}
LAST_WORDS = {"dernier", "derniere", "last", "passe", "passee"}
THIS_WORDS = {"ce", "cet", "cette", "this"}
# Words that may sit between the parts of a moment without changing it ("le", "on", ","...): taken
# with the moment when they stand inside it, left to the text otherwise.
FILLERS = {"le", "la", "l'", "on", "the", ",", ":", "de", "du", "a", "at", "vers", "et", "and", "for", "pour",
           "des", "around", "this", "ce", "cet", "cette", "prochain", "prochaine", "next", "qui", "vient"}


def phrase_variants(phrase: str) -> set[str]:
    """'apres-midi' -> {'apres-midi', 'apres midi', 'apresmidi'}: the ways people type a hyphenated phrase."""
    folded = fold(phrase)
    out = {folded}
    if "-" in folded:
        out |= {folded.replace("-", " "), folded.replace("-", "")}
    if "'" in folded:
        out |= {folded.replace("'", " "), folded.replace("'", "")}
    return out


# Words of space names said in English, read as the French words places name their spaces with (the
# spaces file is written in French): "the meeting room" -> "salle reunion", "the small room" -> "petite
# salle". Only tried when the words as typed name no space (refs.find_space), and a space is still taken
# only when exactly one fits. Empty: a word that says nothing about which space ("room" after "meeting").
SPACE_WORDS_EN: dict[str, str] = {
    "meeting": "reunion", "small": "petite", "little": "petite", "big": "grande", "large": "grande",
    "kitchen": "cuisine", "printer": "imprimante", "cutter": "decoupeuse", "workshop": "atelier",
    "wood": "bois", "sewing": "couture", "garden": "jardin", "room": "salle", "hall": "salle",
    "desk": "poste", "studio": "studio", "office": "bureau", "coworking": "coworking", "3d": "3d",
}
