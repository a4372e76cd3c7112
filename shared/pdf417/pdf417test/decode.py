# Reads the PDF417 symbols of binary PGM images with zxing-cpp and prints,
# as JSON, a list per image of the symbols found: the base64 of each
# symbol's raw bytes and its corners in pixels (top left, top right,
# bottom right, bottom left).
# Only python3-zxing-cpp and its numpy are needed (no imaging library).
import base64
import json
import sys

import numpy
import zxingcpp


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, i = [], 0
    while len(fields) < 4:
        while data[i:i + 1].isspace():
            i += 1
        if data[i:i + 1] == b"#":
            while data[i:i + 1] not in (b"\n", b""):
                i += 1
            continue
        j = i
        while not data[j:j + 1].isspace():
            j += 1
        fields.append(data[i:j])
        i = j
    if fields[0] != b"P5" or int(fields[3]) != 255:
        raise SystemExit("%s: not an 8-bit binary PGM" % path)
    width, height = int(fields[1]), int(fields[2])
    return numpy.frombuffer(data, dtype=numpy.uint8, count=width * height, offset=i + 1).reshape(height, width)


found = []
for path in sys.argv[1:]:
    results = zxingcpp.read_barcodes(read_pgm(path), formats=zxingcpp.BarcodeFormat.PDF417)
    symbols = []
    for r in results:
        if not r.valid:
            continue
        p = r.position
        corners = [[c.x, c.y] for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
        symbols.append({"bytes": base64.b64encode(bytes(r.bytes)).decode(), "corners": corners})
    found.append(symbols)
print(json.dumps(found))
