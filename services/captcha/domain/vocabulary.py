"""The everyday objects a picture challenge can ask for.

Pictures come from **Noto Color Emoji** (Debian package ``fonts-noto-color-emoji``, © Google, released
under the SIL Open Font License 1.1, which allows embedding and redistributing rendered glyphs): a freely
licensed set installed from a package registry, not drawn by hand. Only the codepoint lives here; the
rendering adapter turns it into pixels.

Choice of objects: each one must be recognisable at a glance in the emoji design, have one obvious
French name, and be known to anybody (no jargon, no brand). Objects that look alike or share a name
carry the same ``family`` so that a single challenge never shows two of them (a wristwatch next to an
alarm clock, a T-shirt next to a shirt-and-tie, a car next to a bus…). Glyphs with writing in them
(the calendar says "July") or too pale and thin to stand out from a noisy background (the candle) were
left out after looking at renders.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.captcha.domain.normalise import normalise_word


@dataclass(frozen=True, slots=True)
class Pictogram:
    """One object of the vocabulary.

    ``key`` is a stable internal id (never shown to the client: it would reveal the word);
    ``word`` is the article-free display form used in "Cliquez sur l'image *Pantalon*" and spoken in the
    audio version; ``answers`` are the accepted typed forms (the word itself is always accepted), compared
    after :func:`normalise_word`; ``emoji`` is the text to draw with the emoji font.
    """

    key: str
    word: str
    emoji: str
    family: str
    answers: tuple[str, ...] = ()

    @property
    def accepted(self) -> frozenset[str]:
        """Normalised typed answers this object accepts."""
        return frozenset(normalise_word(a) for a in (self.word, *self.answers))


def _p(key: str, word: str, emoji: str, family: str | None = None, *answers: str) -> Pictogram:
    return Pictogram(key=key, word=word, emoji=emoji, family=family or key, answers=tuple(answers))


# Single codepoints where possible: the emoji presentation of those is unambiguous and the font has them
# as colour bitmaps (a text-default codepoint such as U+2602 needs VS16, which the font also maps).
VOCABULARY: tuple[Pictogram, ...] = (
    # clothing and accessories
    _p("trousers", "Pantalon", "\U0001f456", "legwear", "jean", "jeans"),
    _p("tshirt", "T-shirt", "\U0001f455", "top", "tee-shirt", "tshirt", "maillot"),
    _p("necktie", "Cravate", "\U0001f454", "top", "chemise"),
    _p("dress", "Robe", "\U0001f457"),
    _p("hat", "Chapeau", "\U0001f3a9", "hat", "haut-de-forme", "haut de forme"),
    _p("crown", "Couronne", "\U0001f451", "hat"),
    _p("glasses", "Lunettes", "\U0001f453", None, "lunette"),
    _p("shoe", "Chaussure", "\U0001f45e", None, "chaussures", "soulier"),
    _p("gloves", "Gants", "\U0001f9e4", None, "gant"),
    _p("scarf", "Écharpe", "\U0001f9e3", None, "echarpe"),
    _p("ring", "Bague", "\U0001f48d", None, "anneau"),
    _p("purse", "Porte-monnaie", "\U0001f45b", "bag", "porte monnaie", "portemonnaie", "bourse"),
    _p("suitcase", "Valise", "\U0001f9f3", "bag"),
    _p("backpack", "Cartable", "\U0001f392", "bag", "sac a dos", "sac"),
    _p("umbrella", "Parapluie", "\u2602\ufe0f"),
    # time
    _p("alarm_clock", "Réveil", "\u23f0", "clock", "reveil", "reveille-matin"),
    _p("watch", "Montre", "\u231a", "clock"),
    _p("hourglass", "Sablier", "\u231b", "clock"),
    # office and home
    _p("paperclip", "Trombone", "\U0001f4ce", "fastener"),
    _p("pushpin", "Punaise", "\U0001f4cc", "fastener"),
    _p("scissors", "Ciseaux", "\u2702\ufe0f", None, "ciseau"),
    _p("pencil", "Crayon", "\u270f\ufe0f", "writing"),
    _p("book", "Livre", "\U0001f4d5", None, "cahier"),
    _p("envelope", "Enveloppe", "\u2709\ufe0f", None, "lettre", "courrier"),
    _p("ruler", "Règle", "\U0001f4cf", None, "regle"),
    _p("magnifier", "Loupe", "\U0001f50d"),
    _p("key", "Clé", "\U0001f511", None, "clef"),
    _p("padlock", "Cadenas", "\U0001f512"),
    _p("bulb", "Ampoule", "\U0001f4a1"),
    _p("bell", "Cloche", "\U0001f514", None, "clochette", "sonnette"),
    _p("hammer", "Marteau", "\U0001f528"),
    _p("screwdriver", "Tournevis", "\U0001fa9b"),
    _p("magnet", "Aimant", "\U0001f9f2"),
    _p("battery", "Pile", "\U0001f50b", None, "batterie"),
    _p("broom", "Balai", "\U0001f9f9"),
    _p("bucket", "Seau", "\U0001faa3"),
    _p("soap", "Savon", "\U0001f9fc"),
    _p("toothbrush", "Brosse à dents", "\U0001faa5", None, "brosse a dent", "brosse"),
    _p("chair", "Chaise", "\U0001fa91"),
    _p("bed", "Lit", "\U0001f6cf\ufe0f"),
    _p("gift", "Cadeau", "\U0001f381", None, "paquet cadeau"),
    _p("house", "Maison", "\U0001f3e0"),
    # devices
    _p("camera", "Appareil photo", "\U0001f4f7", None, "appareil", "appareil-photo", "photo"),
    _p("phone", "Téléphone", "\U0001f4f1", None, "portable", "smartphone", "mobile", "telephone portable"),
    _p("laptop", "Ordinateur", "\U0001f4bb", "screen", "ordinateur portable", "ordi", "pc"),
    _p("television", "Télévision", "\U0001f4fa", "screen", "tele", "tv", "televiseur", "poste"),
    _p("headphones", "Casque", "\U0001f3a7", None, "casque audio", "ecouteurs"),
    _p("microphone", "Micro", "\U0001f3a4", None, "microphone"),
    _p("guitar", "Guitare", "\U0001f3b8"),
    # transport and outdoors
    _p("bicycle", "Vélo", "\U0001f6b2", None, "bicyclette"),
    _p("car", "Voiture", "\U0001f697", "road_vehicle", "auto", "automobile"),
    _p("bus", "Bus", "\U0001f68c", "road_vehicle", "autobus", "car"),
    _p("airplane", "Avion", "\u2708\ufe0f"),
    _p("sailboat", "Bateau", "\u26f5", None, "voilier"),
    _p("anchor", "Ancre", "\u2693"),
    _p("tent", "Tente", "\u26fa"),
    _p("tree", "Arbre", "\U0001f333"),
    _p("ball", "Ballon", "\u26bd", None, "ballon de foot", "ballon de football", "balle"),
    _p("dice", "Dé", "\U0001f3b2", None, "des"),
    # food
    _p("apple", "Pomme", "\U0001f34e", "red_fruit"),
    _p("strawberry", "Fraise", "\U0001f353", "red_fruit"),
    _p("banana", "Banane", "\U0001f34c"),
    _p("pineapple", "Ananas", "\U0001f34d"),
    _p("carrot", "Carotte", "\U0001f955"),
    _p("bread", "Pain", "\U0001f35e", None, "pain de mie"),
    _p("cheese", "Fromage", "\U0001f9c0"),
    _p("cup", "Tasse", "\u2615", None, "tasse de cafe", "cafe"),
    _p("baby_bottle", "Biberon", "\U0001f37c"),
)

_BY_KEY: dict[str, Pictogram] = {p.key: p for p in VOCABULARY}


def pictogram(key: str) -> Pictogram:
    """The vocabulary entry for ``key`` (``KeyError`` if unknown)."""
    return _BY_KEY[key]


def check_vocabulary(vocabulary: tuple[Pictogram, ...] = VOCABULARY) -> None:
    """Raise ``ValueError`` if keys repeat or a typed answer is shared by two objects.

    A shared answer would let one typed word pass for two pictures; checked by the unit tests and
    cheap enough to call at start-up.
    """
    seen_keys: set[str] = set()
    owner: dict[str, str] = {}
    for p in vocabulary:
        if p.key in seen_keys:
            raise ValueError(f"duplicate key {p.key!r}")
        seen_keys.add(p.key)
        for answer in p.accepted:
            if not answer:
                raise ValueError(f"empty answer for {p.key!r}")
            if answer in owner:
                raise ValueError(f"answer {answer!r} shared by {owner[answer]!r} and {p.key!r}")
            owner[answer] = p.key
