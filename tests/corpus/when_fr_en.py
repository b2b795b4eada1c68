"""How members say when, typed the way they type on phones, with the reading a person would expect.

Each case is one message's arguments for a command, read against a frozen clock (Monday 23 November
2026, 10:00 in Paris unless the case says otherwise; the clock changes of 29 March and 25 October 2026
have their own clocks). ``reading``:

- ``"2026-11-24"``: that day, no hour (``"2026-11-24 evening"`` with a part of the day);
- ``"2026-11-24 14:00"``: a start only; ``"2026-11-24 14:00-16:00"``: a range (``+1`` on the end when it
  is the next day);
- ``None``: no moment in the text; ``"!"`` or ``"!code"``: the bot must refuse (with that code).

``rest`` is what is left for the command (space, title, reminder text, description); ``duration`` the
length a task logs (``"1:30"``); ``length`` the real minutes a range lasts, across a clock change.
How each command reads its arguments is ``read`` below: /task takes its length first, then a day that is
the last one gone (``past``); every other command takes the next one to come; /rota add also reads
"tous les mardis" (``weekly``), which every other command refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import DateParseError, When, find_duration, find_when

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 23 November 2026, 10:00 Paris
SPRING = datetime(2026, 3, 26, 9, 0, tzinfo=UTC)  # Thursday 26 March 2026, 10:00 Paris (UTC+1)
AUTUMN = datetime(2026, 10, 22, 8, 0, tzinfo=UTC)  # Thursday 22 October 2026, 10:00 Paris (UTC+2)
AFTER_AUTUMN = datetime(2026, 10, 27, 9, 0, tzinfo=UTC)  # Tuesday 27 October 2026, 10:00 Paris (UTC+1)
AUTUMN_NIGHT = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # Sunday 25 October 2026, 01:30 Paris (UTC+2)
COMMANDS = ("book", "free", "remind", "task", "need", "event", "rota")


@dataclass(frozen=True)
class Case:
    command: str
    text: str
    reading: str | None
    rest: str = ""
    duration: str | None = None
    now: datetime = NOW
    length: int | None = None


C = Case
CASES: list[Case] = [
    # ------------------------------------------------------------------ /book <space> <when>
    C("book", "salle-reunion demain 14h-16h", "2026-11-24 14:00-16:00", "salle-reunion"),
    C("book", "la salle de réunion demain 11h-12h", "2026-11-24 11:00-12:00", "la salle de réunion"),
    C("book", "petite salle demain 14h00-16h", "2026-11-24 14:00-16:00", "petite salle"),
    C("book", "open space demain 9h-12h", "2026-11-24 09:00-12:00", "open space"),
    C("book", "imprimante 3d lundi 14h-16h30", "2026-11-30 14:00-16:30", "imprimante 3d"),
    C("book", "laser samedi 10h-12h", "2026-11-28 10:00-12:00", "laser"),
    C("book", "salle jeudi de 14 à 16", "2026-11-26 14:00-16:00", "salle"),
    C("book", "salle jeudi de 14 a 16", "2026-11-26 14:00-16:00", "salle"),
    C("book", "salle demain 10h30 pour 1h", "2026-11-24 10:30-11:30", "salle"),
    C("book", "salle demain 10h30 pendant 1h30", "2026-11-24 10:30-12:00", "salle"),
    C("book", "salle le 15 à 10h pendant 1h30", "2026-12-15 10:00-11:30", "salle"),
    C("book", "salle jeudi midi-14h", "2026-11-26 12:00-14:00", "salle"),
    C("book", "salle demain de midi à 14h", "2026-11-24 12:00-14:00", "salle"),
    C("book", "salle vendredi 10h-midi", "2026-11-27 10:00-12:00", "salle"),
    C("book", "salle samedi matin 10h-12h", "2026-11-28 10:00-12:00", "salle"),
    C("book", "salle demain après-midi de 14h à 16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain apres midi de 14h a 16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain entre 14h et 16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain à partir de 14h jusqu'à 16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain a partir de 14h jusqu'a 16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "cuisine ce soir 18h30-20h", "2026-11-23 18:30-20:00", "cuisine"),
    C("book", "meeting room tomorrow 2-4pm", "2026-11-24 14:00-16:00", "meeting room"),
    C("book", "meeting room tomorrow 2 to 4 pm", "2026-11-24 14:00-16:00", "meeting room"),
    C("book", "meeting room friday 10am to noon", "2026-11-27 10:00-12:00", "meeting room"),
    C("book", "meeting room friday from 10am till noon", "2026-11-27 10:00-12:00", "meeting room"),
    C("book", "salle 12/12 20h-23h", "2026-12-12 20:00-23:00", "salle"),
    C("book", "salle 2026-12-01 14:00-16:00", "2026-12-01 14:00-16:00", "salle"),
    C("book", "salle mardi 1 décembre 14h-16h", "2026-12-01 14:00-16:00", "salle"),
    C("book", "salle mardi 1er décembre 14h-16h", "2026-12-01 14:00-16:00", "salle"),
    C("book", "salle le 1er décembre de 9h à 12h", "2026-12-01 09:00-12:00", "salle"),
    C("book", "salle le 1er decembre de 9h a 12h", "2026-12-01 09:00-12:00", "salle"),
    C("book", "salle sam 10h-12h", "2026-11-28 10:00-12:00", "salle"),
    C("book", "salle sam. 10h-12h", "2026-11-28 10:00-12:00", "salle"),
    C("book", "salle dim 14h-18h", "2026-11-29 14:00-18:00", "salle"),
    C("book", "salle lun 9h-11h", "2026-11-30 09:00-11:00", "salle"),
    C("book", "salle lundi prochain 9h-11h", "2026-11-30 09:00-11:00", "salle"),
    C("book", "salle next monday 9-11am", "2026-11-30 09:00-11:00", "salle"),
    C("book", "salle next friday 2pm-4pm", "2026-11-27 14:00-16:00", "salle"),
    C("book", "salle demain 14H-16H", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain 14 h - 16 h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain 14h a 16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle Demain 14h–16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle apres-demain 9h-10h", "2026-11-25 09:00-10:00", "salle"),
    C("book", "salle apres demain 9h-10h", "2026-11-25 09:00-10:00", "salle"),
    C("book", "salle après-demain 9h-10h", "2026-11-25 09:00-10:00", "salle"),
    C("book", "salle aujourd'hui 14h-15h", "2026-11-23 14:00-15:00", "salle"),
    C("book", "salle aujourd’hui 14h-15h", "2026-11-23 14:00-15:00", "salle"),
    C("book", "salle auj 14h-15h", "2026-11-23 14:00-15:00", "salle"),
    C("book", "salle aujourdhui 14h-15h", "2026-11-23 14:00-15:00", "salle"),
    C("book", "room today 3-5pm", "2026-11-23 15:00-17:00", "room"),
    C("book", "salle ce soir 20h-22h", "2026-11-23 20:00-22:00", "salle"),
    C("book", "room tonight 8-10pm", "2026-11-23 20:00-22:00", "room"),
    C("book", "room tonight 8-10", "2026-11-23 20:00-22:00", "room"),
    C("book", "salle ce soir 8-11", "2026-11-23 20:00-23:00", "salle"),
    C("book", "salle demain 9-12", "2026-11-24 09:00-12:00", "salle"),
    C("book", "salle demain 9h-12", "2026-11-24 09:00-12:00", "salle"),
    C("book", "salle demain de 9 a 12", "2026-11-24 09:00-12:00", "salle"),
    C("book", "salle demain 9:00-12:00", "2026-11-24 09:00-12:00", "salle"),
    C("book", "salle demain 9.30-12.00", "2026-11-24 09:30-12:00", "salle"),
    C("book", "salle demain 14h-16h30", "2026-11-24 14:00-16:30", "salle"),
    C("book", "salle demain 14h30-16h", "2026-11-24 14:30-16:00", "salle"),
    C("book", "salle demain de 14h30 à 16h15", "2026-11-24 14:30-16:15", "salle"),
    C("book", "salle 3/12 14h-16h", "2026-12-03 14:00-16:00", "salle"),
    C("book", "salle 03/12/2026 14h-16h", "2026-12-03 14:00-16:00", "salle"),
    C("book", "salle 03/12/26 14h-16h", "2026-12-03 14:00-16:00", "salle"),
    C("book", "salle le 3 décembre 14h-16h", "2026-12-03 14:00-16:00", "salle"),
    C("book", "salle 3 déc 14h-16h", "2026-12-03 14:00-16:00", "salle"),
    C("book", "salle 3 déc. 14h-16h", "2026-12-03 14:00-16:00", "salle"),
    C("book", "room dec 3 2-4pm", "2026-12-03 14:00-16:00", "room"),
    C("book", "room December 3rd 2pm-4pm", "2026-12-03 14:00-16:00", "room"),
    C("book", "room the 3rd 2-4pm", "2026-12-03 14:00-16:00", "room"),
    C("book", "room on the 3rd from 2 to 4pm", "2026-12-03 14:00-16:00", "room"),
    C("book", "salle 14h-16h demain", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle 14h-16h", "2026-11-23 14:00-16:00", "salle"),
    C("book", "salle demain 16h-14h", "!reversed"),
    C("book", "salle 31/02 10h-11h", "!impossible_date"),
    C("book", "salle 31 février 10h-11h", "!impossible_date"),
    C("book", "salle 0001-01-01 10:00-11:00", "!out_of_range"),
    C("book", "salle 2200-01-01 10:00-11:00", "!out_of_range"),
    C("book", "salle 1/1/1900 10h-11h", "!out_of_range"),
    C("book", "salle samedi matin 15h-17h", "!ambiguous"),
    C("book", "salle lundi 1 décembre 14h-16h", "!ambiguous"),
    C("book", "salle demain 25h-26h", "!impossible_date"),
    C("book", "salle demain 14h60-16h", "!impossible_date"),
    C("book", "salle la semaine prochaine", None, "salle la semaine prochaine"),
    C("book", "salle demain", "2026-11-24", "salle"),
    C("book", "salle demain 10h", "2026-11-24 10:00", "salle"),
    C("book", "salle samedi 22h-2h", "2026-11-28 22:00-02:00+1", "salle"),
    C("book", "salle samedi 20h-minuit", "2026-11-28 20:00-00:00+1", "salle"),
    C("book", "salle samedi 20h-24h", "2026-11-28 20:00-00:00+1", "salle"),
    C("book", "salle demain 14h pour 2 personnes", "2026-11-24 14:00", "salle pour 2 personnes"),
    C("book", "salle demain 14h-16h pour 40 personnes", "2026-11-24 14:00-16:00", "salle pour 40 personnes"),
    C("book", "salle vendredi 9h—17h", "2026-11-27 09:00-17:00", "salle"),
    C("book", "salle VENDREDI 9H-17H", "2026-11-27 09:00-17:00", "salle"),
    C("book", "salle vendedi 9h-17h", "2026-11-27 09:00-17:00", "salle"),
    C("book", "salle mecredi 9h-12h", "2026-11-25 09:00-12:00", "salle"),
    C("book", "salle jeudi 26 14h-16h", "2026-11-26 14:00-16:00", "salle"),
    C("book", "salle jeudi 26/11 14h-16h", "2026-11-26 14:00-16:00", "salle"),
    C("book", "salle demain matin", "2026-11-24 morning", "salle"),
    C("book", "salle demain aprem", "2026-11-24 afternoon", "salle"),
    C("book", "salle demain aprèm", "2026-11-24 afternoon", "salle"),
    C("book", "salle dans 3 jours 10h-12h", "2026-11-26 10:00-12:00", "salle"),
    C("book", "room in 2 days 10-12", "2026-11-25 10:00-12:00", "room"),
    C("book", "salle demain 10h pendant 2 heures", "2026-11-24 10:00-12:00", "salle"),
    C("book", "room tomorrow 10am for 2 hours", "2026-11-24 10:00-12:00", "room"),
    C("book", "salle demain 10h pour une heure et demie", "2026-11-24 10:00-11:30", "salle"),
    C("book", "salle demain 10h pour 45 min", "2026-11-24 10:00-10:45", "salle"),
    C("book", "salle demain à 10h pour 1h", "2026-11-24 10:00-11:00", "salle"),
    C("book", "salle demain 10h pour 1h30", "2026-11-24 10:00-11:30", "salle"),
    C("book", "room tomorrow 10:00 for 90 min", "2026-11-24 10:00-11:30", "room"),
    C("book", "room tomorrow 2pm", "2026-11-24 14:00", "room"),
    C("book", "salle demain 14 heures-16 heures", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain de 14 heures à 16 heures", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle mardi 9h30-11h", "2026-11-24 09:30-11:00", "salle"),
    C("book", "salle mar. 9h30-11h", "2026-11-24 09:30-11:00", "salle"),
    C("book", "salle demain 8h du matin à 10h", "2026-11-24 08:00-10:00", "salle"),
    C("book", "salle demain 14-16 novembre", "!"),
    C("book", "salle demain 14h pendant 30h", "!too_long"),
    C("book", "salle du 12 au 14", None, "salle du 12 au 14"),
    C("book", "salle ce week-end", None, "salle ce week-end"),
    C("book", "room tomorrow between 2 and 4pm", "2026-11-24 14:00-16:00", "room"),
    C("book", "room tomorrow from 2 until 4pm", "2026-11-24 14:00-16:00", "room"),
    C("book", "salle demain de 14h au 16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain 14h/16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle dem 14h-16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle 2main 14h-16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain : 14h-16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain, 14h-16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain 14 16h", "!ambiguous"),
    C("book", "salle 1-12", "!ambiguous"),
    C("book", "salle demain de 2 à 4", "!ambiguous"),
    C("book", "salle cet aprem de 2 à 4", "2026-11-23 14:00-16:00", "salle"),
    C("book", "room mon 9-5", "2026-11-30 09:00-17:00", "room"),
    C("book", "salle demain de 10 à 2", "2026-11-24 10:00-14:00", "salle"),
    C("book", "salle mardi pro 14h-16h", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle samedi qui vient 10h-12h", "2026-11-28 10:00-12:00", "salle"),
    C("book", "salle le samedi 28 10h-12h", "2026-11-28 10:00-12:00", "salle"),
    C("book", "room thurs 10-12", "2026-11-26 10:00-12:00", "room"),
    C("book", "room Tomorrow 14:00 - 16:00", "2026-11-24 14:00-16:00", "room"),
    C("book", "room tomorrow 2 pm-4 pm", "2026-11-24 14:00-16:00", "room"),
    C("book", "room 11/27 2-4pm", "!impossible_date"),
    C("book", "salle demain 14h-16h >", "2026-11-24 14:00-16:00", "salle >"),
    C("book", "salle après 14h", "!ambiguous"),
    C("book", "room tomorrow 2pm-4", "2026-11-24 14:00-16:00", "room"),
    C("book", "salle demain midi-2", "2026-11-24 12:00-14:00", "salle"),
    C("book", "salle samedi 20h-11", "2026-11-28 20:00-23:00", "salle"),
    C("book", "salle demain 14h-16", "2026-11-24 14:00-16:00", "salle"),
    C("book", "salle demain de 8 à 10", "2026-11-24 08:00-10:00", "salle"),
    C("book", "salle ce midi", "2026-11-23 12:00", "salle"),
    C("book", "salle samedi matinée", "2026-11-28 morning", "salle"),
    C("book", "salle demain toute la journée", "2026-11-24", "salle toute la journée"),
    C("book", "salle jusqu'à vendredi", "!ambiguous"),
    C("book", "salle tous les lundis 9h-12h", "!ambiguous"),
    # ------------------------------------------------------------------ /free [space] [when]
    C("free", "salle demain", "2026-11-24", "salle"),
    C("free", "demain aprem", "2026-11-24 afternoon"),
    C("free", "demain après-midi", "2026-11-24 afternoon"),
    C("free", "samedi", "2026-11-28"),
    C("free", "sam", "2026-11-28"),
    C("free", "cet aprem", "2026-11-23 afternoon"),
    C("free", "cet après-midi", "2026-11-23 afternoon"),
    C("free", "ce soir", "2026-11-23 evening"),
    C("free", "ce matin", "2026-11-23 morning"),
    C("free", "demain 14h-16h", "2026-11-24 14:00-16:00"),
    C("free", "tomorrow", "2026-11-24"),
    C("free", "tomorrow afternoon", "2026-11-24 afternoon"),
    C("free", "tomorrow morning", "2026-11-24 morning"),
    C("free", "this afternoon", "2026-11-23 afternoon"),
    C("free", "tonight", "2026-11-23 evening"),
    C("free", "lundi", "2026-11-30"),
    C("free", "le 15", "2026-12-15"),
    C("free", "15/12", "2026-12-15"),
    C("free", "vendredi 27", "2026-11-27"),
    C("free", "this friday", "2026-11-27"),
    C("free", "ce vendredi", "2026-11-27"),
    C("free", "imprimante samedi matin", "2026-11-28 morning", "imprimante"),
    C("free", "laser jeudi", "2026-11-26", "laser"),
    C("free", "aujourd'hui", "2026-11-23"),
    C("free", "today", "2026-11-23"),
    C("free", "demain midi", "2026-11-24 12:00"),
    C("free", "dimanche soir", "2026-11-29 evening"),
    C("free", "sunday evening", "2026-11-29 evening"),
    C("free", "salle", None, "salle"),
    C("free", "next week", None, "next week"),
    C("free", "1er décembre", "2026-12-01"),
    C("free", "le 1er", "2026-12-01"),
    C("free", "dec 1st", "2026-12-01"),
    C("free", "the 1st", "2026-12-01"),
    C("free", "après-demain", "2026-11-25"),
    C("free", "day after tomorrow", "2026-11-25"),
    C("free", "dans 2 jours", "2026-11-25"),
    C("free", "mercredi prochain", "2026-11-25"),
    C("free", "le 31", "2026-12-31"),
    C("free", "le 32", "!impossible_date"),
    C("free", "30/02", "!impossible_date"),
    # ------------------------------------------------------------------ /remind <when> <what>
    C("remind", "vendredi midi déjeuner avec Paul", "2026-11-27 12:00", "déjeuner avec Paul"),
    C("remind", "dans une heure sortir le linge", "2026-11-23 11:00", "sortir le linge"),
    C("remind", "le 15 à 10h payer le loyer", "2026-12-15 10:00", "payer le loyer"),
    C("remind", "demain 9h appeler la mairie", "2026-11-24 09:00", "appeler la mairie"),
    C("remind", "demain appeler la mairie", "2026-11-24", "appeler la mairie"),
    C("remind", "demain matin arroser les plantes", "2026-11-24 morning", "arroser les plantes"),
    C("remind", "dans 20 min relancer le devis", "2026-11-23 10:20", "relancer le devis"),
    C("remind", "dans 2h rappeler Marie", "2026-11-23 12:00", "rappeler Marie"),
    C("remind", "dans 1h30 sortir le pain", "2026-11-23 11:30", "sortir le pain"),
    C("remind", "dans une demi-heure sortir le gâteau", "2026-11-23 10:30", "sortir le gâteau"),
    C("remind", "dans un quart d'heure éteindre le four", "2026-11-23 10:15", "éteindre le four"),
    C("remind", "in 20 min check the oven", "2026-11-23 10:20", "check the oven"),
    C("remind", "in an hour call Bob", "2026-11-23 11:00", "call Bob"),
    C("remind", "in half an hour water the plants", "2026-11-23 10:30", "water the plants"),
    C("remind", "in 2 hours close the windows", "2026-11-23 12:00", "close the windows"),
    C("remind", "tomorrow at 9am call the bank", "2026-11-24 09:00", "call the bank"),
    C("remind", "call the plumber tomorrow at 2pm", "2026-11-24 14:00", "call the plumber"),
    C("remind", "ce soir 20h appeler maman", "2026-11-23 20:00", "appeler maman"),
    C("remind", "ce soir 8h appeler maman", "2026-11-23 20:00", "appeler maman"),
    C("remind", "demain 8h du soir sortir les poubelles", "2026-11-24 20:00", "sortir les poubelles"),
    C("remind", "lundi 9h réunion", "2026-11-30 09:00", "réunion"),
    C("remind", "lundi prochain 9h réunion", "2026-11-30 09:00", "réunion"),
    C("remind", "lun 9h réunion", "2026-11-30 09:00", "réunion"),
    C("remind", "mardi 14h30 dentiste", "2026-11-24 14:30", "dentiste"),
    C("remind", "jeudi 18h apéro", "2026-11-26 18:00", "apéro"),
    C("remind", "samedi 10h marché", "2026-11-28 10:00", "marché"),
    C("remind", "dimanche 11h brunch", "2026-11-29 11:00", "brunch"),
    C("remind", "demain midi déjeuner", "2026-11-24 12:00", "déjeuner"),
    C("remind", "demain à midi déjeuner", "2026-11-24 12:00", "déjeuner"),
    C("remind", "demain minuit fermer", "!ambiguous"),
    C("remind", "ce soir minuit fermer", "2026-11-24 00:00", "fermer"),
    C("remind", "le 3 décembre 10h anniversaire de Léa", "2026-12-03 10:00", "anniversaire de Léa"),
    C("remind", "3/12 10h anniversaire", "2026-12-03 10:00", "anniversaire"),
    C("remind", "le 1er à 9h payer l'assurance", "2026-12-01 09:00", "payer l'assurance"),
    C("remind", "the 3rd at 10am dentist", "2026-12-03 10:00", "dentist"),
    C("remind", "on friday at noon lunch with Paul", "2026-11-27 12:00", "lunch with Paul"),
    C("remind", "friday noon lunch", "2026-11-27 12:00", "lunch"),
    C("remind", "payer le loyer le 15 à 10h", "2026-12-15 10:00", "payer le loyer"),
    C("remind", "appeler la mairie demain à 9h", "2026-11-24 09:00", "appeler la mairie"),
    C("remind", "appeler la mairie demain 9h", "2026-11-24 09:00", "appeler la mairie"),
    C("remind", "rendre les clés samedi 10h", "2026-11-28 10:00", "rendre les clés"),
    C("remind", "à 15h appeler Paul", "2026-11-23 15:00", "appeler Paul"),
    C("remind", "15h appeler Paul", "2026-11-23 15:00", "appeler Paul"),
    C("remind", "vers 16h goûter", "2026-11-23 16:00", "goûter"),
    C("remind", "demain vers 9h relancer", "2026-11-24 09:00", "relancer"),
    C("remind", "demain 9h30 relancer", "2026-11-24 09:30", "relancer"),
    C("remind", "demain 9:30 relancer", "2026-11-24 09:30", "relancer"),
    C("remind", "demain 9 h 30 relancer", "2026-11-24 09:30", "relancer"),
    C("remind", "demain 09h00 relancer", "2026-11-24 09:00", "relancer"),
    C("remind", "demain 9H relancer", "2026-11-24 09:00", "relancer"),
    C("remind", "dmain 9h relancer", "2026-11-24 09:00", "relancer"),
    C("remind", "dans 3 jours appeler le garage", "2026-11-26", "appeler le garage"),
    C("remind", "dans 2 semaines rendre le livre", "2026-12-07", "rendre le livre"),
    C("remind", "dans un mois renouveler l'adhésion", "2026-12-23", "renouveler l'adhésion"),
    C("remind", 'demain 14h "appeler Paul à 15h"', "2026-11-24 14:00", '"appeler Paul à 15h"'),
    C("remind", "jeudi 9h préparer la réunion de vendredi", "!ambiguous"),
    C("remind", "demain 25h appeler", "!impossible_date"),
    C("remind", "tomorrow 9 am stand-up", "2026-11-24 09:00", "stand-up"),
    C("remind", "tmrw 9am stand-up", "2026-11-24 09:00", "stand-up"),
    C("remind", "tomorow 9am stand-up", "2026-11-24 09:00", "stand-up"),
    C("remind", "rdv médecin demain 9h", "2026-11-24 09:00", "rdv médecin"),
    C("remind", "2026-12-24 18h réveillon", "2026-12-24 18:00", "réveillon"),
    C("remind", "24/12 18h réveillon", "2026-12-24 18:00", "réveillon"),
    C("remind", "le 24 décembre à 18h réveillon", "2026-12-24 18:00", "réveillon"),
    C("remind", "dans deux heures relancer", "2026-11-23 12:00", "relancer"),
    C("remind", "dans 10 minutes relancer", "2026-11-23 10:10", "relancer"),
    C("remind", "dans 10 mn relancer", "2026-11-23 10:10", "relancer"),
    C("remind", "dans 45 min relancer", "2026-11-23 10:45", "relancer"),
    C("remind", "ce matin 11h appeler", "2026-11-23 11:00", "appeler"),
    C("remind", "cet aprem 15h appeler", "2026-11-23 15:00", "appeler"),
    C("remind", "cet après-midi 3h appeler", "2026-11-23 15:00", "appeler"),
    C("remind", "demain 3h de l'après-midi appeler", "2026-11-24 15:00", "appeler"),
    C("remind", "tomorrow at 3 in the afternoon call", "2026-11-24 15:00", "call"),
    C("remind", "tomorrow half past 2 pm call", "2026-11-24 14:30", "call"),
    C("remind", "a quarter past 3 pm tomorrow call", "2026-11-24 15:15", "call"),
    C("remind", "8 pm tomorrow call", "2026-11-24 20:00", "call"),
    C("remind", "lundi 14h rappeler Sam", "2026-11-30 14:00", "rappeler Sam"),
    C("remind", "mer 10h piscine", "2026-11-25 10:00", "piscine"),
    C("remind", "jeu 20h soirée jeux", "2026-11-26 20:00", "soirée jeux"),
    C("remind", "demain 10 heures et demie appeler", "2026-11-24 10:30", "appeler"),
    C("remind", "demain à dix heures appeler", "2026-11-24 10:00", "appeler"),
    C("remind", "demain 11h moins le quart appeler", "2026-11-24 10:45", "appeler"),
    C("remind", "demain 10h et quart appeler", "2026-11-24 10:15", "appeler"),
    C("remind", "tomorrow at 5 o'clock call", "!ambiguous"),
    C("remind", "tomorrow half past 2 call", "!ambiguous"),
    C("remind", "tomorrow evening at 7 o'clock call", "2026-11-24 19:00", "call"),
    C("remind", "d'ici 2h relancer", "2026-11-23 12:00", "relancer"),
    C("remind", "tonight at 8 call mum", "!ambiguous"),
    C("remind", "call mum tonight at 8", "2026-11-23 20:00", "call mum"),
    C("remind", "ce soir à 8 personnes", "!ambiguous"),
    C("remind", "demain 14h pile appeler", "2026-11-24 14:00", "appeler"),
    C("remind", "demain dans l'après-midi appeler", "2026-11-24 afternoon", "appeler"),
    C("remind", "demain en soirée appeler", "2026-11-24 evening", "appeler"),
    C("remind", "the 27th of november at 10am dentist", "2026-11-27 10:00", "dentist"),
    C("remind", "tomorrow at 2 call", "!ambiguous"),
    C("remind", "ajd 17h appeler", "2026-11-23 17:00", "appeler"),
    C("remind", "demain midi et demi déjeuner", "2026-11-24 12:30", "déjeuner"),
    C("remind", "vers midi manger", "2026-11-23 12:00", "manger"),
    C("remind", "le 15 payer 2h de parking", "2026-12-15", "payer 2h de parking"),
    C("remind", "avant vendredi rendre le dossier", "!ambiguous"),
    C("remind", "return the form by friday", "!ambiguous"),
    C("remind", "chaque lundi 9h sortir les poubelles", "!ambiguous"),
    C("remind", "every monday 9am stand-up", "!ambiguous"),
    C("remind", "dans 2 jours à 10h appeler", "2026-11-25 10:00", "appeler"),
    C("remind", "demain appeler le 06 12 34 56 78", "!"),
    C("remind", "demain 9h de sortir les poubelles", "2026-11-24 09:00", "de sortir les poubelles"),
    C("remind", "vendredi à midi d'appeler Paul", "2026-11-27 12:00", "d'appeler Paul"),
    C("remind", "ce soir 18h de fermer le local", "2026-11-23 18:00", "de fermer le local"),
    C("remind", "in an hour and a half call back", "2026-11-23 11:30", "call back"),
    C("remind", "demain à 14 appeler", "!ambiguous"),
    C("remind", "appeler Paul", None, "appeler Paul"),
    C("remind", "lundi dernier 9h", "2026-11-16 09:00"),
    C("remind", "demain 12am appeler", "2026-11-24 00:00", "appeler"),
    C("remind", "demain 12pm appeler", "2026-11-24 12:00", "appeler"),
    C("remind", "demain 13pm appeler", "!impossible_date"),
    C("remind", "samedi matin ranger le local", "2026-11-28 morning", "ranger le local"),
    C("remind", "samedi soir fermer le local", "2026-11-28 evening", "fermer le local"),
    # ------------------------------------------------------------------ /task <length> <what> [day]: past
    C("task", "1h tri hier soir", "2026-11-22 evening", "tri", "1:00"),
    C("task", "2h bar le 28", "2026-10-28", "bar", "2:00"),
    C("task", "2h30 accueil hier", "2026-11-22", "accueil", "2:30"),
    C("task", "1h30 réparation vélo lundi", "2026-11-23", "réparation vélo", "1:30"),
    C("task", "3h rangement samedi", "2026-11-21", "rangement", "3:00"),
    C("task", "1h compta vendredi dernier", "2026-11-20", "compta", "1:00"),
    C("task", "45 min ménage avant-hier", "2026-11-21", "ménage", "0:45"),
    C("task", "une heure et demie de tri hier", "2026-11-22", "tri", "1:30"),
    C("task", "deux heures de bar samedi", "2026-11-21", "bar", "2:00"),
    C("task", "2 heures bar samedi", "2026-11-21", "bar", "2:00"),
    C("task", "1,5 h atelier jeudi", "2026-11-19", "atelier", "1:30"),
    C("task", "1.5h atelier jeudi", "2026-11-19", "atelier", "1:30"),
    C("task", "90 min rangement mardi", "2026-11-17", "rangement", "1:30"),
    C("task", "2h le 15 permanence", "2026-11-15", "permanence", "2:00"),
    C("task", "2h permanence le 15/11", "2026-11-15", "permanence", "2:00"),
    C("task", "2h permanence 15/11", "2026-11-15", "permanence", "2:00"),
    C("task", "3h inventaire 20/11", "2026-11-20", "inventaire", "3:00"),
    C("task", "4h chantier le 1er", "2026-11-01", "chantier", "4:00"),
    C("task", "1h tri", None, "tri", "1:00"),
    C("task", "1h tri aujourd'hui", "2026-11-23", "tri", "1:00"),
    C("task", "1h tri auj", "2026-11-23", "tri", "1:00"),
    C("task", "1h tri ce matin", "2026-11-23 morning", "tri", "1:00"),
    C("task", "2h accueil cet aprem", "2026-11-23 afternoon", "accueil", "2:00"),
    C("task", "1h ménage hier matin", "2026-11-22 morning", "ménage", "1:00"),
    C("task", "3h bar samedi soir", "2026-11-21 evening", "bar", "3:00"),
    C("task", "2h repair café samedi dernier", "2026-11-21", "repair café", "2:00"),
    C("task", "2h repair cafe last saturday", "2026-11-21", "repair cafe", "2:00"),
    C("task", "1h sorting yesterday", "2026-11-22", "sorting", "1:00"),
    C("task", "2 hours bar on saturday", "2026-11-21", "bar", "2:00"),
    C("task", "an hour cleaning yesterday", "2026-11-22", "cleaning", "1:00"),
    C("task", "half an hour emails today", "2026-11-23", "emails", "0:30"),
    C("task", "1h30 emails lundi dernier", "2026-11-16", "emails", "1:30"),
    C("task", "30 min compta il y a 2 jours", "2026-11-21", "compta", "0:30"),
    C("task", "2h bar 2 days ago", "2026-11-21", "bar", "2:00"),
    C("task", "1h30 #jardin hier arrosage", "2026-11-22", "#jardin arrosage", "1:30"),
    C("task", "2h #repair samedi", "2026-11-21", "#repair", "2:00"),
    C("task", "1 h 30 tri hier", "2026-11-22", "tri", "1:30"),
    C("task", "1h 30 tri hier", "2026-11-22", "tri", "1:30"),
    C("task", "2h15 tri hier", "2026-11-22", "tri", "2:15"),
    C("task", "2h 15 tri hier", "2026-11-22", "tri", "2:15"),
    C("task", "2h tri vendredi", "2026-11-20", "tri", "2:00"),
    C("task", "2h tri ven", "2026-11-20", "tri", "2:00"),
    C("task", "2h tri le 20", "2026-11-20", "tri", "2:00"),
    C("task", "2h tri le 20 novembre", "2026-11-20", "tri", "2:00"),
    C("task", "2h tri 20 nov", "2026-11-20", "tri", "2:00"),
    C("task", "tri 2h hier", "2026-11-22", "tri", "2:00"),
    C("task", "tri hier 2h", "2026-11-22", "tri", "2:00"),
    C("task", "hier 2h tri", "2026-11-22", "tri", "2:00"),
    C("task", "hier soir 1h tri", "2026-11-22 evening", "tri", "1:00"),
    C("task", "3 h 15 inventaire hier", "2026-11-22", "inventaire", "3:15"),
    C("task", "1h et demie tri hier", "2026-11-22", "tri", "1:30"),
    C("task", "1 heure tri mercredi", "2026-11-18", "tri", "1:00"),
    C("task", "20 minutes café hier", "2026-11-22", "café", "0:20"),
    C("task", "2h tri 1h bar hier", "!ambiguous"),
    C("task", "30h tri hier", "!too_long"),
    C("task", "2h tri dimanche", "2026-11-22", "tri", "2:00"),
    C("task", "2h tri dim", "2026-11-22", "tri", "2:00"),
    C("task", "2h tri le 28/10", "2026-10-28", "tri", "2:00"),
    C("task", "2h tri 2026-11-02", "2026-11-02", "tri", "2:00"),
    C("task", "1h réunion du matin hier", "2026-11-22", "réunion du matin", "1:00"),
    C("task", "2h soirée jeux samedi", "2026-11-21", "soirée jeux", "2:00"),
    C("task", "3h d'accueil hier", "2026-11-22", "accueil", "3:00"),
    C("task", "2h de tri hier", "2026-11-22", "tri", "2:00"),
    # ------------------------------------------------------------------ /need "title" <when> <places> [lieu ...]
    C("need", '"Tenir le bar" samedi 18h-22h 2 lieu Salle de réunion', "2026-11-28 18:00-22:00",
      '"Tenir le bar" 2 lieu Salle de réunion'),
    C("need", '"Accueil" dimanche 14h-18h 3', "2026-11-29 14:00-18:00", '"Accueil" 3'),
    C("need", '"Caisse" samedi 10h-12h places 2', "2026-11-28 10:00-12:00", '"Caisse" places 2'),
    C("need", '"Tenir le bar" 2026-11-28 18h-22h 2', "2026-11-28 18:00-22:00", '"Tenir le bar" 2'),
    C("need", '"Bar" sam 18h-22h 2', "2026-11-28 18:00-22:00", '"Bar" 2'),
    C("need", '"Montage" vendredi 14h à 18h 4 lieu atelier', "2026-11-27 14:00-18:00", '"Montage" 4 lieu atelier'),
    C("need", '"Démontage" dimanche de 18 à 20 2', "2026-11-29 18:00-20:00", '"Démontage" 2'),
    C("need", '"Accueil repair café" samedi 28 novembre 14h-18h 2', "2026-11-28 14:00-18:00",
      '"Accueil repair café" 2'),
    C("need", '"Tenir le bar à 18h" samedi 18h-22h 2', "2026-11-28 18:00-22:00", '"Tenir le bar à 18h" 2'),
    C("need", "Tenir le bar samedi 18h-22h 2", "2026-11-28 18:00-22:00", "Tenir le bar 2"),
    C("need", '"Bar" samedi 18h-22h pour 2 personnes', "2026-11-28 18:00-22:00", '"Bar" pour 2 personnes'),
    C("need", '"Accueil" demain 9h-12h 1', "2026-11-24 09:00-12:00", '"Accueil" 1'),
    C("need", '"Bar" 28/11 18h-22h 2', "2026-11-28 18:00-22:00", '"Bar" 2'),
    C("need", '"Bar" the 28th 6-10pm 2', "2026-11-28 18:00-22:00", '"Bar" 2'),
    C("need", '"Bar" saturday 6pm-10pm 2', "2026-11-28 18:00-22:00", '"Bar" 2'),
    C("need", '"Bar" samedi soir 18h-22h 2', "2026-11-28 18:00-22:00", '"Bar" 2'),
    C("need", '"Bar" samedi 18h 2', "2026-11-28 18:00", '"Bar" 2'),
    C("need", '"Bar" samedi 2', "2026-11-28", '"Bar" 2'),
    C("need", "«Bar» samedi 18h-22h 2", "2026-11-28 18:00-22:00", "«Bar» 2"),
    C("need", "“Bar” samedi 18h-22h 2", "2026-11-28 18:00-22:00", "“Bar” 2"),
    C("need", '"Vaisselle" samedi 22h-minuit 2', "2026-11-28 22:00-00:00+1", '"Vaisselle" 2'),
    C("need", '"Rangement" dimanche 10h-12h30 3 lieu Atelier bois', "2026-11-29 10:00-12:30",
      '"Rangement" 3 lieu Atelier bois'),
    C("need", '"Accueil" lundi 30 novembre 9h-12h 1', "2026-11-30 09:00-12:00", '"Accueil" 1'),
    C("need", '"Accueil" le 5 décembre 9h-12h 2', "2026-12-05 09:00-12:00", '"Accueil" 2'),
    C("need", '"Accueil" 5/12 de 9h à 12h 2', "2026-12-05 09:00-12:00", '"Accueil" 2'),
    C("need", '"Setup" friday 5-7pm 3', "2026-11-27 17:00-19:00", '"Setup" 3'),
    C("need", '"Setup" friday 17:00-19:00 3', "2026-11-27 17:00-19:00", '"Setup" 3'),
    C("need", '"Cleanup" sunday 4pm to 6pm 2', "2026-11-29 16:00-18:00", '"Cleanup" 2'),
    C("need", '"Bar" samedi 18h-22h places 2', "2026-11-28 18:00-22:00", '"Bar" places 2'),
    C("need", '"Bar" samedi de 18h à 22h, 2 places', "2026-11-28 18:00-22:00", '"Bar" 2 places'),
    C("need", '"Bar" samedi 22h-18h 2', "!reversed"),
    C("need", '"Accueil" samedi matin 9h-12h 2', "2026-11-28 09:00-12:00", '"Accueil" 2'),
    C("need", '"Accueil" samedi aprem 14h-18h 2', "2026-11-28 14:00-18:00", '"Accueil" 2'),
    C("need", '"Accueil" samedi après-midi 2-6 2', "2026-11-28 14:00-18:00", '"Accueil" 2'),
    # ------------------------------------------------------------------ /event add "title" <when> [places N] [lieu ...]
    C("event", '"Repair café" 2026-11-28 14h-18h places 1', "2026-11-28 14:00-18:00", '"Repair café" places 1'),
    C("event", '"Repair café" samedi 14h-18h', "2026-11-28 14:00-18:00", '"Repair café"'),
    C("event", '"Atelier vélo" mercredi 18h-20h lieu atelier', "2026-11-25 18:00-20:00", '"Atelier vélo" lieu atelier'),
    C("event", '"Soirée jeux" vendredi 20h-23h', "2026-11-27 20:00-23:00", '"Soirée jeux"'),
    C("event", '"Soirée jeux" vendredi 20h-minuit', "2026-11-27 20:00-00:00+1", '"Soirée jeux"'),
    C("event", '"Concert" samedi 21h-1h', "2026-11-28 21:00-01:00+1", '"Concert"'),
    C("event", '"Apéro" jeudi 18h30-21h', "2026-11-26 18:30-21:00", '"Apéro"'),
    C("event", '"AG" le 12 décembre 18h-20h', "2026-12-12 18:00-20:00", '"AG"'),
    C("event", '"AG" 12/12 18h-20h', "2026-12-12 18:00-20:00", '"AG"'),
    C("event", '"Workshop" December 5th 2-5pm', "2026-12-05 14:00-17:00", '"Workshop"'),
    C("event", '"Workshop" dec 5 2pm to 5pm', "2026-12-05 14:00-17:00", '"Workshop"'),
    C("event", '"Fête" samedi 5 décembre de 19h à 23h', "2026-12-05 19:00-23:00", '"Fête"'),
    C("event", '"Brunch" dimanche 11h-14h', "2026-11-29 11:00-14:00", '"Brunch"'),
    C("event", '"Brunch" dimanche 11h-midi', "2026-11-29 11:00-12:00", '"Brunch"'),
    C("event", '"Café" lundi 9h-10h', "2026-11-30 09:00-10:00", '"Café"'),
    C("event", '"Atelier couture" mardi de 14h à 17h places 8', "2026-11-24 14:00-17:00",
      '"Atelier couture" places 8'),
    C("event", '"Atelier couture" mardi 14h-17h 8 places', "2026-11-24 14:00-17:00", '"Atelier couture" 8 places'),
    C("event", '"Repair café" samedi 14h pendant 4h', "2026-11-28 14:00-18:00", '"Repair café"'),
    C("event", '"Repair café" samedi 14h pour 4 heures', "2026-11-28 14:00-18:00", '"Repair café"'),
    C("event", '"Repair café" samedi aprem 14h-18h', "2026-11-28 14:00-18:00", '"Repair café"'),
    C("event", '"Karaoké" samedi soir 20h-23h', "2026-11-28 20:00-23:00", '"Karaoké"'),
    C("event", '"Karaoké" samedi 8-11pm', "2026-11-28 20:00-23:00", '"Karaoké"'),
    C("event", '"Karaoké" samedi 8pm-11pm', "2026-11-28 20:00-23:00", '"Karaoké"'),
    C("event", '"Karaoké" sat 8-11pm', "2026-11-28 20:00-23:00", '"Karaoké"'),
    C("event", '"Talk" next thursday 6:30pm-8pm', "2026-11-26 18:30-20:00", '"Talk"'),
    C("event", '"Talk" thursday 6.30-8pm', "2026-11-26 18:30-20:00", '"Talk"'),
    C("event", '"Réveillon" 31/12 20h-2h', "2026-12-31 20:00-02:00+1", '"Réveillon"'),
    C("event", '"Galette" le 9 janvier 16h-18h', "2027-01-09 16:00-18:00", '"Galette"'),
    C("event", '"Galette" 9 janv. 16h-18h', "2027-01-09 16:00-18:00", '"Galette"'),
    C("event", '"Galette" 09/01/2027 16h-18h', "2027-01-09 16:00-18:00", '"Galette"'),
    C("event", '"Marché de Noël" 12 et 13 décembre', "!"),
    C("event", '"Repair café" samedi', "2026-11-28", '"Repair café"'),
    C("event", '"Repair café" 2026-02-30 14h-18h', "!impossible_date"),
    C("event", '"Repair café" 2126-02-03 14h-18h', "!out_of_range"),
    C("event", '"Repair café" samedi 18h-14h', "!reversed"),
    C("event", '"Repair café" "samedi" 14h-18h', "2026-11-23 14:00-18:00", '"Repair café" "samedi"'),
    # ------------------------------------------------------------------ /rota add <weekday> <hours> <what>
    C("rota", "mardi 14h-18h accueil", "2026-11-24 14:00-18:00", "accueil"),
    C("rota", "accueil mardi 14h-18h", "2026-11-24 14:00-18:00", "accueil"),
    C("rota", "jeudi 18h-22h bar", "2026-11-26 18:00-22:00", "bar"),
    C("rota", "samedi 10h-12h ouverture", "2026-11-28 10:00-12:00", "ouverture"),
    C("rota", "sam 10h-12h ouverture", "2026-11-28 10:00-12:00", "ouverture"),
    C("rota", "dimanche matin 9h-12h marché", "2026-11-29 09:00-12:00", "marché"),
    C("rota", "tue 2-6pm front desk", "2026-11-24 14:00-18:00", "front desk"),
    C("rota", "saturday 10am-12pm opening", "2026-11-28 10:00-12:00", "opening"),
    C("rota", "vendredi 17h-19h fermeture", "2026-11-27 17:00-19:00", "fermeture"),
    C("rota", "lun 9h-12h permanence", "2026-11-30 09:00-12:00", "permanence"),
    C("rota", "lundi 9h à 12h permanence", "2026-11-30 09:00-12:00", "permanence"),
    C("rota", "mercredi de 14 à 18 atelier", "2026-11-25 14:00-18:00", "atelier"),
    C("rota", "mer 14-18 atelier", "2026-11-25 14:00-18:00", "atelier"),
    C("rota", "jeu. 18h30-22h bar", "2026-11-26 18:30-22:00", "bar"),
    C("rota", "ven 12h-14h cantine", "2026-11-27 12:00-14:00", "cantine"),
    C("rota", "vendredi midi-14h cantine", "2026-11-27 12:00-14:00", "cantine"),
    C("rota", "wednesday 2pm-6pm workshop", "2026-11-25 14:00-18:00", "workshop"),
    C("rota", "thu 6-10pm bar", "2026-11-26 18:00-22:00", "bar"),
    C("rota", "fri noon-2pm lunch", "2026-11-27 12:00-14:00", "lunch"),
    C("rota", "sun 10-12 market", "2026-11-29 10:00-12:00", "market"),
    C("rota", "samedi 14h-18h30 repair café", "2026-11-28 14:00-18:30", "repair café"),
    C("rota", "dimanche 10:00-12:00 marché", "2026-11-29 10:00-12:00", "marché"),
    C("rota", "mardi 19h-23h bar associatif", "2026-11-24 19:00-23:00", "bar associatif"),
    C("rota", "lundi 8h-9h ouverture des portes", "2026-11-30 08:00-09:00", "ouverture des portes"),
    C("rota", "jeudi soir 18h-22h bar", "2026-11-26 18:00-22:00", "bar"),
    C("rota", "tous les mardis 14h-18h accueil", "2026-11-24 14:00-18:00", "accueil"),
    C("rota", "chaque jeudi 18h-22h bar", "2026-11-26 18:00-22:00", "bar"),
    C("rota", "every saturday 10am-12pm opening", "2026-11-28 10:00-12:00", "opening"),
    C("rota", "le mercredi de 14h à 18h atelier", "2026-11-25 14:00-18:00", "atelier"),
    C("rota", "les samedis 10h-12h ouverture", "2026-11-28 10:00-12:00", "ouverture"),
    # ------------------------------------------------------------------ clock changes, Europe/Paris
    C("book", "salle dimanche 10h-12h", "2026-03-29 10:00-12:00", "salle", now=SPRING, length=120),
    C("book", "salle dimanche 2h30-4h", "!nonexistent_time", now=SPRING),
    C("book", "salle samedi 22h-4h", "2026-03-28 22:00-04:00+1", "salle", now=SPRING, length=300),
    C("book", "salle dimanche 1h-4h", "2026-03-29 01:00-04:00", "salle", now=SPRING, length=120),
    C("book", "salle 2026-03-29 02:00-03:00", "!nonexistent_time", now=SPRING),
    C("book", "salle samedi 10h-12h", "2026-03-28 10:00-12:00", "salle", now=SPRING, length=120),
    C("remind", "dimanche 2h30 sortir", "!nonexistent_time", now=SPRING),
    C("remind", "dimanche 3h sortir", "2026-03-29 03:00", "sortir", now=SPRING),
    C("remind", "dimanche 9h sortir", "2026-03-29 09:00", "sortir", now=SPRING),
    C("event", '"Fête" samedi 20h-minuit', "2026-03-28 20:00-00:00+1", '"Fête"', now=SPRING, length=240),
    C("event", '"Nuit blanche" samedi 22h-6h', "2026-03-28 22:00-06:00+1", '"Nuit blanche"', now=SPRING,
      length=420),
    C("need", '"Veille" samedi 23h-3h 2', "2026-03-28 23:00-03:00+1", '"Veille" 2', now=SPRING, length=180),
    C("book", "salle samedi 22h-4h", "2026-10-24 22:00-04:00+1", "salle", now=AUTUMN, length=420),
    C("book", "salle dimanche 1h-4h", "2026-10-25 01:00-04:00", "salle", now=AUTUMN, length=240),
    C("book", "salle 2026-10-25 01:00-04:00", "2026-10-25 01:00-04:00", "salle", now=AUTUMN, length=240),
    C("book", "salle dimanche 2h30-4h", "!ambiguous", now=AUTUMN),
    C("book", "salle dimanche 10h-12h", "2026-10-25 10:00-12:00", "salle", now=AUTUMN, length=120),
    C("book", "salle samedi 10h-12h", "2026-10-24 10:00-12:00", "salle", now=AUTUMN, length=120),
    C("book", "salle lundi 10h-12h", "2026-10-26 10:00-12:00", "salle", now=AUTUMN, length=120),
    C("remind", "dimanche 2h30 sortir", "!ambiguous", now=AUTUMN),
    C("remind", "samedi 23h fermer", "2026-10-24 23:00", "fermer", now=AUTUMN),
    C("remind", "dans 2 heures vérifier le chauffage", "2026-10-25 02:30", "vérifier le chauffage",
      now=AUTUMN_NIGHT),
    C("task", "2h tri dimanche", "2026-10-25", "tri", "2:00", now=AFTER_AUTUMN),
    C("task", "3h bar samedi soir", "2026-10-24 evening", "bar", "3:00", now=AFTER_AUTUMN),
    C("event", '"Bal" samedi 21h-3h', "2026-10-24 21:00-03:00+1", '"Bal"', now=AUTUMN, length=420),
    C("rota", "dimanche 9h-12h marché", "2026-10-25 09:00-12:00", "marché", now=AUTUMN, length=180),
]


@dataclass(frozen=True)
class Reading:
    """What the grammar made of a case: a reading string in the corpus's form, the rest and the length."""

    reading: str | None
    rest: str = ""
    duration: str | None = None
    length: int | None = None


def describe(when: When | None) -> str | None:
    if when is None:
        return None
    if when.start is None:
        return f"{when.day.isoformat()} {when.period}" if when.period else when.day.isoformat()
    start = when.start.astimezone(PARIS)
    text = start.strftime("%Y-%m-%d %H:%M")
    if when.end is not None:
        end = when.end.astimezone(PARIS)
        text += "-" + end.strftime("%H:%M") + ("+1" if end.date() > start.date() else "")
    return text


def _hm(delta: timedelta | None) -> str | None:
    if delta is None:
        return None
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def read(case: Case) -> Reading:
    """How the command reads its arguments: /task takes its length, then a past day; the others the
    next moment to come. A refusal is a Reading whose ``reading`` is '!code'."""
    try:
        duration = None
        text = case.text
        if case.command == "task":
            duration, text = find_duration(text)
        when, rest = find_when(text, case.now, PARIS, past=case.command == "task", weekly=case.command == "rota")
    except DateParseError as error:
        return Reading("!" + error.code)
    length = None
    if when is not None and when.start is not None and when.end is not None:
        length = int((when.end - when.start).total_seconds() // 60)
    return Reading(describe(when), rest, _hm(duration), length)


def verdict(case: Case, got: Reading) -> str:
    """'right', 'refused' (the bot said it did not understand: safe, but a miss) or 'misread'."""
    expected = case.reading
    if expected is not None and expected.startswith("!"):
        if got.reading is not None and got.reading.startswith("!"):
            return "right" if expected == "!" or expected == got.reading else "refused"
        return "misread"
    if got.reading is not None and got.reading.startswith("!"):
        return "refused"
    if got.reading != expected:
        return "refused" if got.reading is None and expected is not None and case.text.strip() else "misread"
    if " ".join(got.rest.split()) != " ".join(case.rest.split()):
        return "misread"
    if case.command == "task" and got.duration != case.duration:
        return "refused" if got.duration is None else "misread"
    if case.length is not None and got.length != case.length:
        return "misread"
    return "right"


assert all(case.command in COMMANDS for case in CASES)
assert all(case.now.tzinfo is UTC for case in CASES)
