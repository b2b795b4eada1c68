"""The words of requests, in French and English, as members type them on phones: folded (lower case,
no accents, straight apostrophes), with the usual shortcuts and typos. The words of *when* live with the
date grammar (``bot.core.dates``, ``bot.core.vocabulary``); these are the verbs and nouns that say *what*.

Cues are regular expressions over the folded sentence, with words separated by single spaces.
"""

from __future__ import annotations

from bot.core.vocabulary import SPACE_WORDS_EN

# Phone spellings read as the word they stand for, before anything else (one word -> words).
SPELLINGS: dict[str, str] = {
    "slt": "salut", "bjr": "bonjour", "bsr": "bonsoir", "cc": "coucou", "stp": "", "svp": "", "pls": "",
    "plz": "", "please": "", "merci": "merci", "mrc": "merci", "mci": "merci", "thx": "merci", "ty": "merci",
    "dmain": "demain", "dem1": "demain", "2main": "demain", "demin": "demain", "deamin": "demain",
    "ajd": "aujourd'hui", "aujd": "aujourd'hui", "auj": "aujourd'hui", "aujourdhui": "aujourd'hui",
    "fé": "fait", "fe": "fait", "fai": "fait", "ojourdui": "aujourd'hui", "ojd": "aujourd'hui", "oj": "aujourd'hui",
    "sam": "samedi", "dim": "dimanche", "ven": "vendredi", "vend": "vendredi", "lun": "lundi",
    "merc": "mercredi", "tmrw": "tomorrow", "tmr": "tomorrow", "tomoro": "tomorrow", "tommorow": "tomorrow",
    "tomorow": "tomorrow",
    "2moro": "tomorrow", "tmrow": "tomorrow", "tdy": "today", "2day": "today",
    "jsuis": "je suis", "chui": "je suis", "jsui": "je suis", "chuis": "je suis", "jpeux": "je peux",
    "jveux": "je veux", "jvoudrais": "je voudrais", "jai": "j'ai", "g": "j'ai", "jme": "je me",
    "kel": "quel", "kelle": "quelle", "ki": "qui", "koi": "quoi", "qd": "quand", "pr": "pour", "ds": "dans",
    "pk": "pourquoi", "qqn": "quelqu'un", "qqun": "quelqu'un", "qq1": "quelqu'un", "qqch": "quelque chose",
    "tt": "tout", "bcp": "beaucoup", "rdv": "rendez-vous", "resa": "reservation",
    "resas": "reservations", "reza": "reservation", "rezas": "reservations", "rés": "reservation",
    "dispos": "dispo", "dispoo": "dispo", "libres": "libre", "u": "you", "r": "are", "ur": "your",
    "im": "i'm", "ill": "i'll", "cant": "can't", "dont": "don't", "wont": "won't", "id": "i'd", "whats": "what's",
    "reunon": "reunion", "reuinon": "reunion", "reu": "reunion", "reserve-moi": "reserve moi",
    "mtn": "maintenant", "a+": "", "bisous": "", "cdt": "", "cordialement": "", "lol": "",
}

# Whole words that say nothing about the request.
FILLER_WORDS = {
    "bonjour", "bonsoir", "salut", "coucou", "hello", "hi", "hey", "yo", "hola", "merci", "thanks", "thank",
    "stp", "svp", "please", "pls", "plz", "steuplait", "stplait", "sil", "vous", "te", "plait", "plais",
    "ok", "okay", "oui", "euh", "hum", "bon", "alors", "dis", "dites", "voila", "ben", "bah",
    "bot", "tierslieu", "tierslieu-bot", "@bot",
}
SMALL_TALK = {"ca", "va", "cv", "how", "are", "you", "comment", "vas", "tu", "allez", "vous", "?"}
GREETINGS = {"hi there", "hey there", "hello there", "bonjour a tous", "salut a tous", "bonjour", "bonsoir", "salut",
"coucou", "hello", "hi", "hey", "yo", "hola", "slt", "bjr",
             "good morning", "good evening"}
GOODBYES = {"ok bye", "bye bye", "ok ciao", "allez bye", "bye", "ciao", "a plus", "a+", "bonne journee",
"bonne soiree", "bonne nuit", "a demain",
            "a bientot", "good night", "see you", "have a nice day", "tchao", "salut a plus", "bonne journee merci",
            "merci bonne journee", "merci et bonne journee"}
THANKS = {"merci pour tout", "merci pour ton aide", "merci pour votre aide", "thanks for everything",
          "thanks for your help", "cheers", "ta", "merci a toi", "merci a vous", "thanks mate", "thanks a lot",
          "thank you so much",
"thanks so much", "many thanks", "merci mille fois", "mille mercis",
          "merci", "thanks", "thank you", "merci beaucoup", "thx", "cool merci", "super merci", "top merci",
          "parfait merci", "ok merci", "merci bien", "great thanks", "nickel merci", "super", "parfait", "top",
          "nickel", "genial", "cool", "great", "perfect", "ok", "okay", "d'accord", "dac", "ok cool", "ok super",
          "ok merci beaucoup", "ca marche", "ca marche merci", "parfait merci beaucoup"}
YES = {"oui", "yes", "ok", "okay", "oui merci", "yes please", "confirme", "je confirme", "c'est ca", "c'est bon",
       "ouais", "ouai", "yep", "yup", "sure", "go", "vas-y", "vas y", "d'accord", "dac", "parfait", "valide",
       "confirm", "oui stp", "oui svp", "oui c'est ca", "exactement", "correct", "yeah", "ya", "o"}
NO = {"non", "no", "nope", "laisse tomber", "laisser tomber", "annule", "oublie", "oublie ca", "stop", "rien",
      "non merci", "no thanks", "cancel", "forget it", "never mind", "nevermind", "pas la peine", "n",
      "non, laisser tomber", "no, drop it", "drop it"}
CHANGE = {"changer", "change", "modifier", "modify", "edit", "corriger", "autre chose", "pas tout a fait",
          "not quite"}

# "comment on réserve ?", "how do I book?": a question about the bot, answered with the help.
HOW_TO = (r"\b(?:comment|how (?:do|can|should|to|does))\b.{0,20}\b(?:reserv|book|inscri|sign up|rappel|remind|annul"
          r"|cancel|log|note)")

_EVENT_WORDS = r"(?:atelier|soiree|repair|evenement|event|cours|concert|projection|apero|workshop|session)"

# Each intent: the cues that name it (regular expressions over the folded sentence). The order of
# INTENT_ORDER decides between two intents that both match: the more specific first.
CUES: dict[str, tuple[str, ...]] = {
    "leave": (
        r"\b(?:ne )?serai pas la\b", r"\bwon'?t be there\b",
        r"\bi'?m out (?:for|of)\b",
        r"\bje (?:ne )?(?:participe|viens|viendrai) (?:pas|plus)\b",
        r"\bcount me out\b",
        r"\bdesist", r"\bannul\w* ma venue\b",
        r"\bdesinscri", r"\bdes-inscri", r"\bje (?:viens|viendrai) (?:pas|plus)\b", r"\bdesincri", r"\bdesinscire",
        r"\bne (?:viens|viendrai|viendra) (?:pas|plus)",
        r"\b(?:peux|pourrai|pourrais|pourra) (?:pas|plus) (?:venir|y aller|participer|aller)",
        r"\bretire[sz]?[- ]moi\b", r"\benleve[sz]?[- ]moi\b", r"\bunregister", r"\bsign me (?:out|off)",
        r"\btake me off", r"\bremove me from", r"\bcan'?t (?:come|make it to|attend|go)", r"\bcannot (?:come|attend)",
        r"\bwon'?t (?:come|be coming|attend)", r"\bnot coming\b", r"\bleave the\b",
        r"\bannul\w* (?:mon|ma|l') ?(?:inscription|participation|place)",
        r"\bcancel my (?:sign ?-?up|registration|spot|place|seat)",
    ),
    "drop": (
        r"\b(?:can no longer|cannot|can'?t|won'?t be able to) (?:do|make|take|cover) (?:the|my) (?:\w+ )?"
        r"(?:opening|closing|shift)",
        r"\b(?:peux|pourrai|pourrais|pourra|vais) (?:pas|plus) (?:faire|assurer|tenir|prendre|ouvrir|fermer)"
        r" ?(?:ma|mon|la|le|l')? ?(?:permanence|perm|creneau|ouverture|fermeture|shift)?",
        r"\blach\w* (?:ma|mon|la|le|l') ?(?:permanence|perm|creneau|ouverture|fermeture)",
        r"\bannul\w* (?:ma|mon|la|le|l') ?(?:permanence|perm|creneau|ouverture|fermeture)",
        r"\b(?:drop|give back|cancel) my shift", r"\bcan'?t (?:do|make|take) (?:my|the) (?:shift|opening|closing)",
        r"\bcan'?t open\b", r"\bcan'?t close\b", r"\bdrop the shift",
    ),
    "rota": (
        r"\bqui (?:ferme|fermera|fait la fermeture|s'occupe de la fermeture)", r"\bwho(?:'s| is)? (?:closes|closing)\b",
        r"\bqui (?:ouvre|ferme) (?:cette|la) semaine", r"\bwho (?:opens|closes) this week", r"\bplanning des perm",
        r"\b(?:le|la|the) (?:rota|planning)\b",
    ),
    "whoopens": (
        r"\bquelqu'un (?:ouvre|ouvrira)\b", r"\bqui\b.{0,30}\bl'ouverture\b", r"\bqui\b.{0,30}\bpour ouvrir\b",
        r"\bqui ouvr", r"\bwho(?:'s| is) on (?:the )?(?:opening|shift)",
        r"\bqui (?:ouvre|ouvrira|ouvert|fait l'ouverture|fait l ouverture|s'occupe de l'ouverture|est d'ouverture)",
        r"\bqui est de (?:permanence|perm)", r"\bqui tient la permanence",
        r"\bwho(?:'s| is)? (?:opens|opening|open)\b", r"\bwho will open", r"\bwho is on (?:the )?(?:opening|shift)",
    ),
    "remind": (
        r"\brap+el+e?[sz]?[- ]?(?:moi|nous)\b", r"\brappelle[sz]?[- ]?m'", r"\bfai[st]?[- ]moi (?:penser|souvenir)",
        r"\bpreviens[- ]moi\b", r"\bn'oublie pas de me rappeler\b", r"\b(?:peux|pourrais)[- ]tu me rappeler\b",
        r"\bme rappeler\b",
        r"^rappel\b", r"^reminder\b", r"\bset (?:a |me a )?reminder\b", r"\bremind(?:er)? me\b", r"\bremind\b",
        r"\bset (?:a|me a) reminder", r"\bun rappel\b",
        r"\bpense a me\b",
        r"\bmets?[- ]moi un rappel", r"\bn'oublie pas de me", r"\bdon'?t let me forget",
    ),
    "task": (
        r"\bj'ai (?:fait|donne|passe|bosse|travaille|aide|benevole|consacre|file un coup de main|tenu|trie|repare"
        r"|range|nettoye|anime|assure|fais|fai)\b",
        r"\bj'ai \d", r"^\d{1,2}(?:[.,]5)? ?(?:hours?|hrs?|heures?)\b",
        r"^(?:hier|avant-hier|yesterday|ce matin|this morning|aujourd'hui|today) \d{1,2} ?h",
        r"^\d{1,2} ?h(?:[0-5]\d)? (?:de|d')", r"^\d{1,3} ?min (?:de|d')",
        r"\b(?:note|noter|notes|compte|compter|comptes|enregistre|log|logge|ajoute)[sz]?[- ]?(?:moi)? ?\d",
        r"\bi (?:did|spent|gave|worked|volunteered|helped|logged|put in)\b", r"\blogged\b",
        r"\b(?:log|add|record) (?:\d|my|an? )", r"\bon a fait \d", r"\bwe did \d", r"\bpasse \d+ ?h",
    ),
    "take": (
        r"\b(?:faire|prendre|tenir|assurer) une (?:permanence|perm)\b",
        r"\b(?:take|do|cover) the (?:\w+ )?(?:opening|closing|shift)\b",
        r"\bm'occuper de (?:l'ouverture|la fermeture|la permanence|la perm|ouvrir|fermer)",
        r"\bje (?:peux|pourrai|pourrais|veux|vais|prends|prend|m'occupe|me charge|fais|ferai|peut|tiens|tiendrai) "
        r"(?:\w+ ){0,3}(?:l'ouverture|la fermeture)",
        r"\bje (?:peux|pourrai|pourrais|veux|vais|prends|prend|m'occupe|me charge|fais|ferai|peut) "
        r"(?:\w+ ){0,2}(?:l'ouverture|la fermeture|ouvrir|fermer|le creneau|la permanence|la perm|ce creneau|le shift)",
        r"\bje prends? (?:le|la|ce) (?:creneau|permanence|perm|shift)",
        r"\bi(?:'ll| will| can| could)? (?:take|do|cover) (?:the|a|this|that) (?:shift|opening|closing|slot)",
        r"\bi(?:'ll| will| can)? (?:open|close) (?:on |the place )?", r"\bsign me up for the (?:shift|opening)",
        r"\b(?:je suis|i'm|i am) (?:dispo|disponible|libre|available|free) pour (?:ouvrir|fermer|la permanence"
        r"|l'ouverture|la fermeture|le creneau)",
        r"\b(?:je suis|i'm|i am) (?:dispo|disponible|available|free) (?:to|for) (?:open|close|the shift|a shift)",
        r"\bprendre (?:le|la|un|une) (?:creneau|permanence|perm)",
    ),
    "cancel": (
        r"(?<!\bas )(?<!\bete )(?<!\best )(?<!\bsont )\bannul", r"\bcancel(?!led)",
        r"\bsupprim\w* (?:ma|mon|la|le) (?:reservation|booking)",
        r"\bdelete my booking", r"\bje (?:n'ai plus|n ai plus) besoin de (?:la|le|l')",
        r"\bdon'?t need (?:the|my)\b.*\b(?:anymore|any more)\b", r"\bno longer need\b", r"\bwon'?t need (?:the|my)\b",
        r"\b(?:plus|pas) besoin de (?:la|le|l')",
    ),
    "join": (
        r"^inscription\b",
        r"\bje me r?ajoute\b", r"\bmets?[- ]moi sur la liste\b", r"\bsur la liste (?:de|du|pour)\b",
        r"\b(?:reserve|garde)[sz]?[- ]moi une place (?:pour|a|au|aux) (?:l'|le |la )?" + _EVENT_WORDS,
        r"\badd me (?:to|for)\b",
        r"\bcompte[sz]? sur moi\b", r"\bcount on me\b",
        r"\binscrivez[- ]moi\b", r"\binscrivez[- ]nous\b",
        r"\binscri[st]?[- ]?moi\b", r"\binscri[sr]?e?[sz]?[- ]?(?:moi|nous)\b", r"\bm'inscri", r"\bme inscri",
        r"\bje m'inscri", r"\bje (?:viens|viendrai|participe|serai|serai la) (?:a|au|aux|pour|a l')\b",
        r"\bje veux (?:participer|venir)", r"\bje voudrais (?:participer|venir)", r"\bparticiper (?:a|au|aux)\b",
        r"\bsign (?:me|us) up", r"\bsignup\b", r"\bregister me", r"\bcount me in",
        r"\bi(?:'ll| will) (?:come|be there)",
        r"\bi(?:'m| am) coming", r"\bi(?:'d| would) like to (?:join|come|attend)", r"\bjoin the\b", r"\bjoin\b",
        r"\bune place (?:a|au|pour) l'atelier", r"\bvenir (?:a|au|aux)\b", r"\bs'inscrire\b", r"\binscrire\b",
        r"\bsign up\b", r"\bto register\b", r"\bajoute[sz]?[- ]moi (?:a|au|sur)", r"\bput me (?:down|on)",
        r"\binscription (?:a|au|pour)\b", r"\bje peux venir (?:a|au)\b", r"\bcan i (?:join|come to|attend)",
    ),
    "mybookings": (
        r"\bmes (?:reservations|reservation)\b", r"\bmy bookings\b", r"\bmy reservations\b",
        r"\bj'ai (?:reserve|quoi comme reservation)", r"\bqu'est-ce que j'ai reserve", r"\bce que j'ai reserve",
        r"\bwhat (?:did i|have i) (?:book|booked|reserved)", r"\bj'ai comme (?:reserv|resa)",
        r"\bj'ai des (?:reserv|resa)", r"\bai-je reserve",
        r"\bmes resa", r"\bmes (?:\w+ )?(?:reservations|resas)\b", r"\bj'ai (?:une|des) (?:reservation|resa)",
    ),
    "myevents": (
        r"\bmy (?:\w+ )?(?:events|sign ?-?ups|registrations)\b",
        r"\bwhat (?:have i|did i|am i) (?:signed|sign|registered|register)", r"\bwhere am i signed",
        r"\bmes (?:evenements|evenement|inscriptions|ateliers|events)\b", r"\bmy (?:events|sign ?-?ups|registrations)",
        r"\bje suis inscrit", r"\bje suis inscrite", r"\bwhat am i signed up", r"\bwhere am i registered",
    ),
    "myhours": (
        r"^(?:my )?hours\b",
        r"\bmes heures\b", r"\bcombien d'heures", r"\bcombien\b.*\bheures\b", r"\bcombien j'ai fait\b",
        r"\bmy hours\b", r"\bhow many hours", r"\bmon total\b",
        r"\bmon benevolat\b", r"\bmy volunteer(?:ing)? (?:hours|time)", r"\bj'ai fait combien",
    ),
    "shifts": (
        r"\b(?:creneaux|permanences|perms|shifts) (?:a prendre|libres|dispo|disponibles|ouverts|open|to take)",
        r"\bbesoin de (?:monde|benevoles|bras|quelqu'un|volontaires)", r"\bquels? (?:creneaux|permanences)\b",
        r"\bmes (?:creneaux|permanences|perms|shifts)\b", r"\bmy shifts\b", r"\bwhich shifts\b", r"\bany shifts\b",
        r"\bneed (?:volunteers|help|people)\b", r"\bje peux aider\b", r"\bcan i help\b", r"\bcomment aider\b",
    ),
    "events": (
        r"\bqu'est-ce qu'il y a\b", r"\bqu'est ce qu'il y a\b", r"\bqu'y a-t-il\b", r"\bquoi de prevu\b",
        r"\by a quoi\b", r"\bil y a quoi\b", r"\bquels? (?:evenements|ateliers|events|activites)\b",
        r"\bprogramme\b", r"\bagenda\b", r"\bwhat'?s on\b", r"\bwhat is on\b", r"\bwhat events\b",
        r"\bany events\b", r"^events\b", r"\bevents (?:this|next|today|tonight|tomorrow)\b", r"\bupcoming events\b",
        r"\bles (?:evenements|ateliers)\b",
        r"\bprochains? (?:evenements|ateliers)",
        r"\bwhat'?s happening\b", r"\bc'est quand\b",
        r"\b(?:le|la) prochaine? " + _EVENT_WORDS,
        r"\bnext " + _EVENT_WORDS,
        r"\bquand (?:a lieu|est|c'est|aura lieu)\b", r"\bwhen is\b",
        r"\bse passe quoi\b", r"\bqu'est-ce qui se passe\b",
        r"\bqu'est ce qui se passe\b", r"\by a (?:des|les) (?:ateliers|evenements|events|soirees)\b",
        r"\b(?:des|prochains?) (?:ateliers|evenements)\b",
    ),
    "free": (
        r"\b(?:quelqu'un|someone|anyone|qui) a (?:reserve|pris)", r"\bwho (?:booked|has booked|took)\b",
        r"\b(?:is|are) (?:the |a )?.{0,30}\bbooked\b",
        r"\bc'est (?:reserve|pris)\b", r"\bon est combien\b",
        r"\bcombien (?:de monde|de places|de personnes)\b", r"\blibre", r"\bdispo", r"\bfree\b", r"\bavailable\b",
        r"\bavailability\b", r"\boccupee?s?\b(?! de)", r"\bc'est plein\b", r"\bc'est complet\b", r"\bbusy\b",
        r"\bde la place\b", r"\breste (?:de la )?place", r"\bpris(?:e)? (?:demain|aujourd|ce|cet|jeudi|lundi|mardi"
        r"|mercredi|vendredi|samedi|dimanche)", r"\bbooked (?:tomorrow|today|on)", r"\btaken\b",
    ),
    "book": (
        r"\breserv(?!ation)", r"\bbook(?!ed|ing)",
        r"\b(?:faire|fais|prendre|poser|avoir) (?:une|un) (?:reservation|resa)\b",
        r"\bune reservation (?:pour|de|d')", r"\bnouvelle reservation\b", r"\blouer\b", r"\bloue\b",
        r"\brent\b", r"\bil me (?:faut|faudrait|faudra)\b",
        r"\bil nous (?:faut|faudrait)\b", r"\bj'ai besoin (?:de|d')", r"\bon a besoin (?:de|d')", r"\bbesoin (?:de|d')",
        r"\bje (?:veux|voudrais|voudrai|voudrait|aimerais|aimerai|souhaite|souhaiterais|prends|prend|prendrais"
        r"|cherche)\b",
        r"\b(?:avoir|prendre|utiliser|occuper|squatter) (?:la|le|l'|une|un)\b", r"\bpeux avoir\b",
        r"\bpourrais avoir\b",
        r"\bneed (?:a|the|an)\b", r"\bcan i (?:have|get|use|take)\b", r"\bcould i (?:have|get|use)\b",
        r"\bi(?:'d| would) like\b", r"\bi want\b", r"\bi'?ll take\b", r"\bget (?:a|the) (?:room|desk|space)",
        r"\bmettre (?:une|un) (?:option|reservation)", r"\bpose[rz]? (?:une|un) (?:option|reservation)",
    ),
    "spaces": (
        r"\bquel(?:le)?s? (?:salles|espaces|machines)\b", r"\bles (?:salles|espaces)\b",
        r"\bliste des (?:salles|espaces)",
        r"\bwhat (?:rooms|spaces)\b", r"\bwhat are the (?:rooms|spaces)\b", r"\bwhich (?:rooms|spaces)\b",
        r"\blist (?:the )?(?:rooms|spaces)",
        r"\bon peut reserver quoi\b", r"\bqu'est-ce qu'on peut reserver", r"\bwhat can i book\b",
    ),
    "help": (
        r"\baide\b", r"\bhelp\b", r"\bcomment (?:ca marche|faire|on fait|tu marches)", r"\bque (?:sais|peux)-tu faire",
        r"\btu (?:sais|peux) faire quoi", r"\bwhat can you do", r"\bhow does (?:it|this) work", r"\bcommandes\b",
        r"\bcommands\b", r"\bt'es qui\b", r"\brobot\b", r"\bwho are you\b",
    ),
}

INTENT_ORDER = ("leave", "drop", "rota", "whoopens", "remind", "myhours", "myevents", "mybookings", "task", "take",
                "shifts",
                "cancel", "join", "free", "spaces", "events", "book", "help")

# Nouns that mean an event or a shift, to tell what a cancellation is about.
EVENT_NOUNS = ("atelier", "evenement", "event", "soiree", "inscription", "participation", "cafe", "repair",
               "workshop", "session", "cours", "stage", "projection", "concert", "apero", "conference")
SHIFT_NOUNS = ("permanence", "perm", "creneau", "ouverture", "fermeture", "shift", "opening", "closing")
OPEN_WORDS = ("ouverture", "ouvrir", "ouvre", "open", "opening")
CLOSE_WORDS = ("fermeture", "fermer", "ferme", "close", "closing")

# Words of a space's name in English, read as the French names the spaces have: the grammar's table
# (vocabulary.SPACE_WORDS_EN, what typed commands read too), then what sentences add (phone spellings,
# plurals, and words that point at a kind of space: a desk is the open space).
SPACE_SYNONYMS: dict[str, str] = {
    **SPACE_WORDS_EN,
    "meeting": "reunion", "small": "petite", "little": "petite", "kitchen": "cuisine", "printer": "imprimante",
    "laser": "laser", "cutter": "decoupeuse", "room": "salle", "desk": "open-space", "bureau": "open-space",
    "poste": "open-space", "coworking": "open-space", "cowork": "open-space", "openspace": "open-space",
    "reunions": "reunion", "grande": "reunion", "big": "reunion", "decoupe": "decoupeuse", "imprimante3d": "imprimante",
    "3d": "imprimante", "salles": "salle", "rooms": "salle",
}
# Words of event titles in English, read as the French titles events have.
EVENT_SYNONYMS: dict[str, str] = {
    "bike": "velo", "bikes": "velo", "bicycle": "velo", "cycling": "velo", "workshop": "atelier",
    "sewing": "couture", "game": "jeux", "games": "jeux", "boardgame": "jeux", "night": "soiree", "evening": "soiree",
    "party": "soiree", "repairs": "repair", "coffee": "cafe", "jeu": "jeux", "soirees": "soiree", "ateliers": "atelier",
}
# Words of space names that, alone and without a verb, don't name a booking ("la réunion de demain").
NO_CUE_WEAK_WORDS = {"reunion", "salle", "cafe", "space", "espace", "open", "room", "meeting"}
# Words of names that are too common to pick a space by themselves.
WEAK_SPACE_WORDS = {"de", "du", "la", "le", "l", "des", "the", "a", "space", "espace", "cafe", "open", "3d"}

# Small words that carry nothing in titles and free text (articles, prepositions).
SMALL_WORDS = {"le", "la", "les", "l", "l'", "un", "une", "des", "de", "du", "d", "d'", "au", "aux", "a", "the",
               "an", "of", "to", "for", "pour", "sur", "en", "et", "and", "my", "ma", "mon", "mes", "me", "m'",
               "moi", "on", "at", "in", "this", "ce", "cet", "cette"}
