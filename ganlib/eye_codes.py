"""The latent codes a person found drawing recognisable images, as a card records them, and the codes a draw keeps to.

A generator with latent codes splits its drawings into kinds, and it learns some kinds far better than others: of
`emoji64-dcgan-codes`'s 20 codes, ten drew emoji in 55 of 100 fresh samples labelled by eye and the other ten in 6
(docs/quality.md: "Codes that draw emoji"). A card may name such codes under "eye_codes"; drawing from them alone
trades the kinds the generator cannot draw yet for samples a person takes for the real thing, as truncation does.
"""
import operator
from dataclasses import dataclass

from .errors import CheckpointError, GanStudioError

CARD_FIELD = "eye_codes"
BY_EYE = "eye"  # what `--codes` takes for the card's codes


@dataclass(frozen=True)
class EyeCodes:
    codes: tuple  # the codes whose samples the eye took for recognisable images
    share: float  # of their fresh samples labelled by eye, the share taken for recognisable images
    others_share: float  # the same share for the other codes' samples
    labelled: int  # how many samples were labelled, both groups together


def check_eye_codes(value):
    """The card's "eye_codes" table as EyeCodes, or a ValueError saying in a few words what is wrong with it."""
    if not isinstance(value, dict) or set(value) != {"codes", "share", "others_share", "labelled"}:
        raise ValueError("not a table of codes, share, others_share and labelled")
    codes, labelled = value["codes"], value["labelled"]
    if (not isinstance(codes, list) or not 0 < len(codes) <= 1000
            or not all(is_whole(code) and code >= 0 for code in codes) or len(set(codes)) != len(codes)):
        raise ValueError("its codes are not a list of distinct code numbers")
    if not all(isinstance(share, (int, float)) and not isinstance(share, bool) and 0 <= share <= 1
               for share in (value["share"], value["others_share"])):
        raise ValueError("its shares are not numbers from 0 to 1")
    if not is_whole(labelled) or labelled < 1:
        raise ValueError("its labelled is not a count of samples")
    return EyeCodes(tuple(codes), float(value["share"]), float(value["others_share"]), labelled)


def is_whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def eye_codes(card, latent_codes):
    """The card's EyeCodes for a generator with `latent_codes` codes (the card was checked when it was read), or
    None where it names none."""
    if CARD_FIELD not in card:
        return None
    found = check_eye_codes(card[CARD_FIELD])
    if max(found.codes) >= latent_codes:
        raise CheckpointError(f"the card's 'eye_codes' name code {max(found.codes)}, past this generator's "
                              f"{latent_codes} codes")
    return found


def codes_to_draw(asked, card, latent_codes):
    """The codes a draw keeps to, from `--codes`-style text ("3,7,12", or "eye" for the card's) or numbers; a line
    saying why where they cannot be drawn."""
    if not latent_codes:
        raise GanStudioError("only a generator trained with latent codes (--latent-codes) can keep to some codes")
    if isinstance(asked, str) and asked.strip().lower() == BY_EYE:
        found = eye_codes(card, latent_codes)
        if found is None:
            raise GanStudioError("this generator's card names no codes found drawing recognisable images by eye; "
                                 f"give code numbers from 0 to {latent_codes - 1}")
        return found.codes
    try:
        parts = asked.split(",") if isinstance(asked, str) else list(asked)
        codes = sorted({int(part) if isinstance(part, str) else operator.index(part) for part in parts})
    except (TypeError, ValueError):  # one number, not a list; 3.5 or "x", not a code number
        codes = []
    if not codes or not all(0 <= code < latent_codes for code in codes):
        raise GanStudioError(f"codes {str(asked)[:40]!r} are not a list of code numbers from 0 to {latent_codes - 1} "
                             f"(or '{BY_EYE}' for the codes the card names)")
    return tuple(codes)
