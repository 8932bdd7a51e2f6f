"""Keep notebook outputs light: re-encode PNG outputs in nbs/ as palette PNGs (256 colours, optimised) when that is
smaller; the picture stays the same size and looks the same for plots and skeleton drawings.
Run after saving outputs: .venv/bin/python tools/shrink_outputs.py [notebooks...]"""
import base64, io, json, sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent


def shrink_png(b64: str) -> str:
    raw = base64.b64decode(b64)
    img = Image.open(io.BytesIO(raw))
    if img.mode == "P": return b64
    rgb = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    quant = rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE if rgb.mode == "RGBA" else Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    quant.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode() if out.tell() < len(raw) else b64


def shrink(path: Path) -> int:
    text = path.read_text()
    nb = json.loads(text)
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if "image/png" in data:
                png = data["image/png"]
                data["image/png"] = shrink_png(png if isinstance(png, str) else "".join(png).replace("\n", ""))
    new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new != text: path.write_text(new)
    return len(text) - len(new)


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or sorted((REPO / "nbs").rglob("*.ipynb"))
    saved = sum(shrink(p) for p in paths if ".ipynb_checkpoints" not in p.parts)
    print(f"{len(paths)} notebooks, {saved / 1e6:.2f} MB saved")
