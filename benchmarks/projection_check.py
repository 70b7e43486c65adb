"""How well each shipped digit generator answers a drawing: `python -m benchmarks.projection_check [SEED]`.

Ten digits drawn with a mouse's strokes (ganlib/drawn_digits.py) and ten typed in DejaVu Sans (where the font is
installed) are projected into each generator; the meter's classifier reads each projection. Printed per generator and
input kind: digits read as drawn, classes found as drawn (conditional), projections closer than the best of 1,000
random samples, the median distance beside the median random one, and the slowest projection. Then letters and a face,
which a digit generator never learned: how close it still gets. Run it with nothing else on the machine.
"""
import statistics
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

import ganlib
from ganlib.drawn_digits import drawn_digit
from ganlib.quality import meter_input, meter_network


GENERATORS = ("mnist-cdcgan", "mnist-dcgan", "mnist-mlp-r1", "mnist-mlp")
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def typed(text):
    image = Image.new("L", (256, 256), 255)
    ImageDraw.Draw(image).text((128, 128), text, fill=0, font=ImageFont.truetype(str(FONT), 200), anchor="mm")
    return image


def main(seed):
    reader = meter_network("mnist-sample")
    inputs = {"drawn": drawn_digit, **({"typed": lambda d: typed(str(d))} if FONT.exists() else {})}
    for name in GENERATORS:
        generator = ganlib.load(Path("checkpoints") / name)
        for kind, make in inputs.items():
            found = [generator.project(make(digit), seed=seed, progress=False) for digit in range(10)]
            with torch.no_grad():
                reads = reader(meter_input(torch.cat([f.projection for f in found]), True)).argmax(1).tolist()
            labels = sum(f.label == d for d, f in enumerate(found)) if generator.model_cfg.classes else None
            print(f"{name:13} {kind:6} read as drawn {sum(r == d for d, r in enumerate(reads))}/10"
                  + (f", class found {labels}/10" if labels is not None else "")
                  + f", closer than random {sum(f.distance < f.random_distance for f in found)}/10, median distance "
                  f"{statistics.median(f.distance for f in found):.3f} (random best "
                  f"{statistics.median(f.random_distance for f in found):.3f}), slowest {max(f.seconds for f in found):.1f} s")
        if FONT.exists():
            strangers = {text: generator.project(typed(text), seed=seed, progress=False) for text in ("A", "K", "W", "☺")}
            print(f"{name:13} not digits: " + ", ".join(f"{text} {f.distance:.2f} (random {f.random_distance:.2f})"
                                                       for text, f in strangers.items()))


if __name__ == "__main__":
    torch.set_num_threads(2)
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
