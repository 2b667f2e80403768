#!/usr/bin/env python3
"""Write configs/<task>/<model>.json from the reference config bundle, byte-for-byte per entry.

Usage: python3 scripts/export_configs.py [REFERENCE_JSON] [OUT_DIR]
Each entry's text is cut from the bundle and dedented, so number spellings (1e-8, 5e-5) and key
order stay exactly as in the reference; the result is checked against a plain JSON parse.
"""
import json
import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "../shared/spec/reference-configs.json"
OUT = sys.argv[2] if len(sys.argv) > 2 else "configs"


def entries(text):
    """Yield (key, entry_text) for each top-level `  "key": { ... }` block of the bundle."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r'^  "([^"]+)": \{$', lines[i])
        if not m:
            i += 1
            continue
        body = ["{"]
        i += 1
        while not re.match(r"^  \},?$", lines[i]):
            body.append(lines[i][2:])
            i += 1
        body.append("}")
        yield m.group(1), "\n".join(body) + "\n"
        i += 1


def main():
    text = open(SRC, encoding="utf-8").read()
    parsed = json.loads(text)
    written = 0
    for key, body in entries(text):
        assert json.loads(body) == parsed[key], key
        assert list(json.loads(body)) == list(parsed[key]), key
        task, model = key.split("/")
        os.makedirs(os.path.join(OUT, task), exist_ok=True)
        with open(os.path.join(OUT, task, model + ".json"), "w", encoding="utf-8") as f:
            f.write(body)
        written += 1
    assert written == len(parsed), (written, len(parsed))
    print(f"wrote {written} configs under {OUT}/")


if __name__ == "__main__":
    main()
