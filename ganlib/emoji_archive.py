"""Builds the shipped colour dataset, ganlib/data/emoji_64.npz, from the npm package emoji-datasource-twitter.

The package carries every Twemoji emoji as a 64×64 RGBA PNG (graphics CC-BY 4.0, © Twitter and the jdecked/twemoji
contributors) and an emoji.json that names each one's image, short name and category. Rebuild with:

    npm pack emoji-datasource-twitter && tar xzf emoji-datasource-twitter-*.tgz
    python -m ganlib.emoji_archive package
"""
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from .datasets import EMOJI_PATH

SHIPPED_VENDOR = "twitter"  # the other emoji-datasource packages draw the same emoji in other styles
LEFT_OUT_CATEGORIES = {"Component"}  # skin-tone swatches and loose hair parts: pieces, not emoji
BACKGROUND = "white"  # transparency is composited onto one fixed background


def emoji_entries(package, vendor=SHIPPED_VENDOR):
    """The package's emoji that have an image by `vendor`, in the package's sort order, without the left-out
    categories."""
    entries = json.loads((Path(package) / "emoji.json").read_text(encoding="utf-8"))
    chosen = [e for e in entries if e.get(f"has_img_{vendor}") and e["category"] not in LEFT_OUT_CATEGORIES]
    return sorted(chosen, key=lambda e: e["sort_order"])


def composite(path, size=64):
    """An RGBA image file → uint8 [size, size, 3] on the fixed background."""
    with Image.open(path) as image:
        image = image.convert("RGBA")
        if image.size != (size, size):
            image = image.resize((size, size), Image.Resampling.LANCZOS)
        background = Image.new("RGBA", image.size, BACKGROUND)
        return np.asarray(Image.alpha_composite(background, image).convert("RGB"))


def vendor_images(package, entries, vendor=SHIPPED_VENDOR):
    """uint8 [N, 64, 64, 3]: each entry as `vendor` draws it, on the fixed background."""
    return np.stack([composite(Path(package) / "img" / vendor / "64" / e["image"]) for e in entries])


def build_emoji_archive(package, out=EMOJI_PATH):
    """Write images uint8 [N, 64, 64, 3], labels (category index), categories, names, and each emoji's
    subcategory (index into subcategories: 'face-smiling', 'animal-mammal'…, what the colour meter learned);
    returns N."""
    entries = emoji_entries(package)
    categories = list(dict.fromkeys(e["category"] for e in entries))
    subcategories = sorted({e["subcategory"] for e in entries})
    images = vendor_images(package, entries)
    np.savez_compressed(out, images=images,
                        labels=np.array([categories.index(e["category"]) for e in entries], dtype=np.uint8),
                        categories=np.array(categories), names=np.array([e["short_name"] for e in entries]),
                        subcategory_labels=np.array([subcategories.index(e["subcategory"]) for e in entries],
                                                    dtype=np.uint8),
                        subcategories=np.array(subcategories))
    return len(images)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "emoji.json").is_file():
        sys.exit("usage: python -m ganlib.emoji_archive PACKAGE_FOLDER (the unpacked emoji-datasource-twitter)")
    print(f"wrote {build_emoji_archive(sys.argv[1]):,} emoji to {EMOJI_PATH}")
