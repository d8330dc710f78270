"""The shape of the code: imports flow one way, the decoder stands apart from
the encoder, light commands do not load torch, modules stay short."""
import ast
import subprocess
import sys

from tests.conftest import ROOT

# entropy/ and train/ sit beside iwave/ in the repository and are installed as
# iwave.entropy and iwave.train
PACKAGES = ("iwave", "entropy", "train")
# modules only an encoder (or a trainer, a benchmark, the CLI) needs
ENCODER_ONLY = ("iwave.encoder", "iwave.coarse_band_fit", "iwave.directions_fit", "iwave.ycbcr_fit",
                "iwave.ycbcr420_fit", "iwave.codec", "iwave.cli", "iwave.bench",
                "iwave.evaluate", "iwave.folders", "iwave.diagnose", "iwave.entropy.plan_fit", "iwave.train")
MAX_LINES = 400


def modules():
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts if package == "iwave" else ("iwave",) + parts)
            found[name.removesuffix(".__init__")] = path
    return found


def import_graph():
    """module -> the project modules it imports anywhere (lazy imports in
    functions included: a cycle through one is still a cycle)."""
    mods = modules()

    def resolve(name):
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name
    graph = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps |= {resolve(a.name) for a in node.names if a.name.split(".")[0] in PACKAGES}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    deps.add(full if full in mods else resolve(node.module))
        graph[name] = deps - {name, ""}
    return graph


def cycles(graph):
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))
    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_decoder_imports_nothing_encoder_only():
    graph, seen, todo = import_graph(), set(), ["iwave.decoder"]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += graph[m]
    assert not [m for m in seen if m.startswith(ENCODER_ONLY)]
    # and at run time (what the package __init__ files pull in counts too)
    out = subprocess.run([sys.executable, "-c", "import sys, iwave.decoder; print(*sys.modules)"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    assert not [m for m in out if m.startswith(ENCODER_ONLY)]


def test_no_module_imports_another_modules_private_names():
    found = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                found += [f"{name}: {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert found == []


def test_headers_and_help_do_not_load_torch():
    code = ("import sys, iwave.bitstream, iwave.cli\n"
            "data = open('tests/vectors/lossless-rgb8.iwv', 'rb').read()\n"
            "iwave.bitstream.read(data)\n"
            "iwave.cli.build_parser().format_help()\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_modules_are_short():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}
