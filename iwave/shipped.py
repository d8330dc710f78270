"""Where the shipped models are, and which of them made a file, without
loading torch: weights/index.json maps every shipped and archived model's
identifier (the 16 hex digits each file stores) to its name, so `iwave info`
can name a file's model. `python -m iwave.model` rewrites the index after a model is added
(tests/iwave/test_shipped.py checks it against the models)."""
import importlib.util
import json
from pathlib import Path

ARCHIVE = "archive"       # models no longer the default, kept so that old files decode
INDEX = "index.json"


def weights_dirs():
    """Where shipped models are: the package's iwave.weights (the repository's
    weights/ folder, installed with the package)."""
    spec = importlib.util.find_spec("iwave.weights")
    return [Path(d) for d in (spec.submodule_search_locations if spec else [])]


def model_files():
    """name -> path of every shipped model, archived ones as 'archive/NAME'."""
    found = {}
    for d in weights_dirs():
        for p in sorted(d.glob("*.npz")):
            found.setdefault(p.stem, p)
        for p in sorted((d / ARCHIVE).glob("*.npz")):
            found.setdefault(f"{ARCHIVE}/{p.stem}", p)
    return found


def index():
    """identifier -> name, from the index files of the weights folders."""
    names = {}
    for d in weights_dirs():
        try:
            names.update(json.loads((d / INDEX).read_text()))
        except (OSError, ValueError):
            pass
    return names


def name_of(identifier):
    """The name of the shipped model with this identifier, or None."""
    return index().get(identifier)
