"""An emoji reader or a Twemoji reader? The colour meter's verdicts on another vendor's drawings of the same emoji.

    npm pack emoji-datasource-google && mkdir google && tar xzf emoji-datasource-google-*.tgz -C google
    python -m benchmarks.meter_other_styles google/package [--vendor google]

The meter's network learned the 1,906 shipped Twemoji. Printed: the share of them it reads as emoji, and the share
of the same emoji drawn by another vendor (Google's Noto, Apache 2.0, by default) that it reads as emoji and names
the right kind ('face-smiling', 'flag'…) for.
"""
import argparse

import numpy as np
import torch

from ganlib.datasets import emoji_subcategories, load_dataset, to_unit_range
from ganlib.emoji_archive import emoji_entries, vendor_images
from ganlib.quality import QualityMeter, read_as_emoji


def verdicts(meter, images, subcategories):
    """(share read as emoji, share whose kind is named right) of uint8 images [N, 64, 64, 3]."""
    pixels = to_unit_range(torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2))
    probabilities = meter._features_and_probabilities(pixels)[1]
    named_right = probabilities.argmax(1) == subcategories
    return read_as_emoji(probabilities).float().mean().item(), named_right.float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", help="an unpacked emoji-datasource-VENDOR npm package")
    parser.add_argument("--vendor", default="google")
    args = parser.parse_args()
    data = load_dataset("emoji", 32, 3)
    meter = QualityMeter.for_data("emoji", data, seed=0)
    shipped_kinds, kinds = emoji_subcategories()
    twemoji = next(data.batches(torch.arange(len(data)), len(data)))
    probabilities = meter._features_and_probabilities(twemoji)[1]
    print(f"Twemoji, which it learned ({len(data):,}): read as emoji {read_as_emoji(probabilities).float().mean():.0%}, "
          f"kind named right {(probabilities.argmax(1) == shipped_kinds).float().mean():.0%}")
    entries = [e for e in emoji_entries(args.package, args.vendor) if e["subcategory"] in kinds]
    read, named = verdicts(meter, vendor_images(args.package, entries, args.vendor),
                           torch.tensor([kinds.index(e["subcategory"]) for e in entries]))
    print(f"the same emoji by {args.vendor} ({len(entries):,}): read as emoji {read:.0%}, kind named right {named:.0%}")


if __name__ == "__main__":
    main()
