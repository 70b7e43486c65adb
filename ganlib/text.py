"""Text from outside (file, folder and class names, nicknames) made safe to print and fair to compare.

A name is data: printed to a terminal it must not move the cursor or reverse the line (the right-to-left
override), and two names that look the same on a projector must count as the same name.
"""
import unicodedata

# Letters of other scripts that look like a Latin letter in common fonts (after case folding), and Latin letters
# that look like another one. Unicode's confusables.txt is the full list; these are the ones a keyboard reaches.
LOOKALIKES = str.maketrans({
    **dict.fromkeys("аα", "a"), "в": "b", "β": "b", "ь": "b", **dict.fromkeys("сϲ", "c"), "ԁ": "d",
    **dict.fromkeys("еєε", "e"), "һ": "h", "н": "h", **dict.fromkeys("іιӏ1|ɩ", "l"), "ј": "j", **dict.fromkeys("кκ", "k"),
    "м": "m", "ո": "n", "η": "n", **dict.fromkeys("оο0σ", "o"), **dict.fromkeys("рρ", "p"), "ԛ": "q", "ѕ": "s",
    **dict.fromkeys("тτ", "t"), **dict.fromkeys("υս", "u"), "ν": "v", **dict.fromkeys("ԝω", "w"),
    **dict.fromkeys("хχ", "x"), **dict.fromkeys("уγ", "y"), "i": "l",
})


def printable(text):
    """`text` without control and format characters (escape sequences, the bidirectional overrides, zero-width
    marks): what a terminal shows is then what the name holds."""
    return "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in str(text))


def folded(text):
    """A name in one canonical form: Unicode-normalized (NFKC: 'ﬁ' is 'fi', the two encodings of 'é' are one) and
    case-folded, so 'Café' and 'café' are the same name."""
    return unicodedata.normalize("NFKC", str(text)).casefold()


def lookalike_key(text):
    """A key equal for names that look alike on a screen: folded, spaces squeezed, accents dropped and letters of
    other scripts that look Latin read as Latin ('Аlice' with a Cyrillic А is 'alice', and so is 'AIice')."""
    decomposed = unicodedata.normalize("NFKD", " ".join(folded(text).split()))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.translate(LOOKALIKES)
