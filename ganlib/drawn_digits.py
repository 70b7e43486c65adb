"""Digits drawn as a person draws them with a mouse: strokes through a few points, white on black, as the Latent
explorer's canvas makes them. The projection's tests and benchmark draw with these, and a notebook can too."""
import math

from PIL import Image, ImageDraw


def loop(cx, cy, rx, ry, points=24):
    return [(cx + rx * math.sin(2 * math.pi * k / points), cy - ry * math.cos(2 * math.pi * k / points))
            for k in range(points + 1)]


STROKES = {  # in the unit square, y down
    0: [loop(0.5, 0.5, 0.27, 0.4)],
    1: [[(0.56, 0.1), (0.46, 0.9)]],
    2: [[(0.22, 0.3), (0.35, 0.13), (0.6, 0.1), (0.77, 0.25), (0.72, 0.46), (0.22, 0.88), (0.85, 0.88)]],
    3: [[(0.22, 0.17), (0.65, 0.1), (0.78, 0.28), (0.45, 0.48), (0.8, 0.64), (0.72, 0.86), (0.22, 0.86)]],
    4: [[(0.58, 0.1), (0.2, 0.64), (0.84, 0.64)], [(0.64, 0.34), (0.64, 0.92)]],
    5: [[(0.78, 0.1), (0.32, 0.1), (0.27, 0.46), (0.58, 0.4), (0.78, 0.6), (0.68, 0.86), (0.25, 0.86)]],
    6: [[(0.68, 0.1), (0.36, 0.38), (0.26, 0.68), (0.4, 0.9), (0.68, 0.86), (0.74, 0.64), (0.5, 0.52), (0.3, 0.64)]],
    7: [[(0.2, 0.12), (0.8, 0.12), (0.44, 0.9)]],
    8: [loop(0.5, 0.29, 0.21, 0.19), loop(0.5, 0.7, 0.26, 0.21)],
    9: [loop(0.5, 0.32, 0.24, 0.21), [(0.74, 0.32), (0.68, 0.9)]],
}


def drawn_digit(digit, size=280, width=0.09):
    """A PIL image of `digit` drawn with a round pen `width` of the canvas wide, white on black."""
    image = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(image)
    radius = width * size / 2
    for stroke in STROKES[digit]:
        points = [(x * size, y * size) for x, y in stroke]
        pen.line(points, fill=255, width=round(2 * radius), joint="curve")
        for x, y in points[:: len(points) - 1]:
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return image
