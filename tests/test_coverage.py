"""docs/coverage.md, the table of where each seed concept is taught, must be true.

Every ``Lnn §k`` in it must name a solution notebook ``solutions/nn_*.ipynb`` that has a section ``## k. ...``;
a row marked COVERED must say where; and no concept whose home is a lesson that exists may be left untaught.

And the sections must hold what the rows claim. Each row (the concepts A1..Q4, and the seed statements #1..#25
the course corrects) has its key words in ``KEY_WORDS`` below: case-insensitive regular expressions, each one
specific to the concept (a generic word such as "loss" alone does not count). A section's text is its markdown
and code cells with their stored text outputs, from its ``## k.`` heading to the next ``## `` heading. The rule:

- every key word appears in at least one section the row cites, and
- every section the row cites holds at least one of the row's key words (no citation is decorative).

For a seed statement the key words show that the lesson *names* the mistake (#3: "clamp" in L02 §3), not only
that it teaches the right fact. A row marked MISSING cites every section that holds one of its key words (where
a lesson mentions it in passing), so that MISSING is never contradicted by a lesson. The notebooks are read once
for the whole module (``lesson_sections`` is cached).
"""
import functools
import re

import pytest
from lesson_helpers import ROOT

from tinygrad_lite.course.notebooks import read_notebook

COVERAGE = ROOT / "docs" / "coverage.md"
SEED_CONCEPTS = ROOT.parent / "shared" / "seed-concepts.md"  # the seed material, kept outside the repository
ROW = re.compile(r"^\| ([A-Q]\d+) \| (.*?) \| ([A-Z-]+) \| (.*) \|$")
SEED_ROW = re.compile(r"^\| (\d+) \| (.*) \| ([^|]*) \|$")
REF = re.compile(r"L(\d\d) §(\d+)")

# Key words per row: what a cited section must say for the row to be true (regular expressions, any case).
KEY_WORDS = {
    # A. Training-loop structure
    "A1": (r"\.backward\(\)", r"loop"),
    "A2": (r"zero_grad|zero the gradients|gradients? to zero", r"accumulat"),
    "A3": (r"optimizer\.zero_grad\(\)", r"optimizer\.step\(\)"),
    "A4": (r"epoch", r"len\(loader\)|batches per epoch|steps? per epoch"),
    "A5": (r"full batch", r"mini-batch", r"one example at a time"),
    "A6": (r"in this order", r"data", r"optimizer", r"validation loop"),
    "A7": (r"def train_one_epoch", r"def evaluate"),
    "A8": (r"callback", r"\bevents?\b", r"on_epoch_begin", r"on_epoch_end", r"def run_pipeline"),
    "A9": (r"CONFIG", r"hyperparameters in one place"),
    "A10": (r"data\.py", r"model\.py", r"train\.py", r"infrastructure", r"experiment code"),
    # B. Data, splits, loaders
    "B1": (r"batch", r"rows of \$X\$|one row per sample"),
    "B2": (r"\bxor\b", r"two[_ ]moons|half moons"),
    "B3": (r"\bDataset\b", r"DataLoader"),
    "B4": (r"drop_last", r"smaller"),
    "B5": (r"shuffle", r"generator", r"every epoch"),
    "B6": (r"batch size", r"noise", r"generali[sz]", r"samples per second"),
    "B7": (r"random_split", r"validation"),
    "B8": (r"validation", r"also appear in training|leakage"),
    "B9": (r"test set", r"validation set"),
    "B10": (r"standardi[sz]", r"value ranges|look at a few inputs"),
    "B11": (r"multi-label", r"with_logits|BCEWithLogits", r"per class"),
    "B12": (r"int64", r"float"),
    # C. Forward pass and initialisation
    "C1": (r"W\^\\top|W\.T\b", r"bias"),
    "C2": (r"relu", r"sigmoid", r"tanh"),
    "C3": (r"multi-layer perceptron", r"hidden"),
    "C4": (r"logits", r"Linear\([^()]*,\s*1\)"),
    "C5": (r"softmax", r"probabilit"),
    "C6": (r"forward pass", r"\bsaved?\b"),
    "C7": (r"xavier", r"glorot", r"fan"),
    "C8": (r"vanish", r"explode"),
    "C9": (r"biases are usually started at 0|zeros_\(layer\.bias\)",),
    "C10": (r"parameters\(\)",),
    "C11": (r"argmax", r">\s*0\.5", r"logit > 0"),
    # D. Losses
    "D1": (r"one number|a single number|scalar",),
    "D2": (r"MSE", r"squar"),
    "D3": (r"\bL1\b", r"absolute"),
    "D4": (r"huber", r"smooth ?L1"),
    "D5": (r"BCELoss|binary[ _]cross[-_]entropy", r"sigmoid"),
    "D6": (r"BCEWithLogits|with_logits",),
    "D7": (r"clamping the probabilit|sigmoid\(x\)\.clamp\(", r"gradient exactly 0|becomes 0"),
    "D8": (r"cross-entropy", r"class ind(ex|ices)"),
    "D9": (r"NLLLoss|nll_loss", r"log_softmax"),
    "D10": (r"second softmax|probabilities into cross-entropy",),
    "D11": (r"which loss", r"multi-label", r"regression"),
    "D12": (r"confident(ly)? wrong", r"grows without bound"),
    # E. Backward pass and autograd
    "E1": (r"chain rule",),
    "E2": (r"graph", r"record"),
    "E3": (r"\.backward\(\)", r"\.grad\b"),
    "E4": (r"matmul_backward", r"linear_backward"),
    "E5": (r"softmax", r"one-?hot|onehot"),
    "E6": (r"derivative", r"tanh", r"relu"),
    "E7": (r"dead", r"stays off|never changes"),
    "E8": (r"saturat", r"vanish"),
    "E9": (r"graph", r"\.item\(\)|numpy"),
    "E10": (r"no_grad",),
    "E11": (r"enable_grad",),
    # F. Optimizers
    "F1": (r"\\leftarrow|←|-=", r"learning rate|\blr\b"),
    "F2": (r"too small", r"too large", r"range test"),
    "F3": (r"typical", r"10\^\{-3\}|1e-3", r"10\^\{-6\}|1e-6"),
    "F4": (r"momentum", r"velocity|buffer"),
    "F5": (r"nesterov", r"dampening"),
    "F6": (r"adam", r"beta_?1", r"\\epsilon|\beps\b"),
    "F7": (r"adamw", r"decoupled"),
    "F8": (r"rmsprop",),
    "F9": (r"choosing an optimizer|which optimizer",),
    "F10": (r"param_groups", r"state", r"_update"),
    "F11": (r"state\[p\]", r"state_dict"),
    "F12": (r"in[- ]place", r"no_grad", r"p = p -"),
    "F13": (r"accumulat", r"large batch|big batch|effective batch"),
    # G. Learning-rate schedules
    "G1": (r"constant", r"settle|noise"),
    "G2": (r"LinearLR",),
    "G3": (r"StepLR", r"gamma"),
    "G4": (r"ExponentialLR",),
    "G5": (r"CosineAnnealingLR", r"T_max", r"eta_min"),
    "G6": (r"warm ?up", r"LinearLR"),
    "G7": (r"SequentialLR", r"milestones"),
    "G8": (r"ReduceLROnPlateau|PlateauScheduler", r"patience", r"factor"),
    "G9": (r"scheduler\.step\(\)", r"per batch|per epoch|once per epoch"),
    "G10": (r"param_groups", r"get_last_lr"),
    "G11": (r"OneCycleLR", r"warm restarts|CosineAnnealingWarmRestarts"),
    "G12": (r"transformer", r"convolutional", r"warmup"),
    # H. Regularisation
    "H1": (r"overfit", r"validation loss"),
    "H2": (r"weight[_ ]decay",),
    "H3": (r"smaller model", r"\bgap\b"),
    "H4": (r"more data", r"augment", r"\bgap\b"),
    "H5": (r"dropout", r"eval\(\)"),
    "H6": (r"batch ?norm", r"running"),
    # I. Clipping and gradient health
    "I1": (r"explod", r"\binf\b|\bnan\b"),
    "I2": (r"clip_grad_norm_", r"total norm|global norm"),
    "I3": (r"clip", r"before (`)?backward|between (`)?backward"),
    "I4": (r"max_norm", r"1\.0"),
    "I5": (r"grad_stats", r"per[- ]layer|each layer"),
    "I6": (r"\bstd\b", r"histogram", r"layer"),
    "I7": (r"vanish", r"first layer|hidden layers"),
    "I8": (r"histogram", r"parameters and their gradients|, and of its gradient"),
    # J. Validation and metrics
    "J1": (r"eval\(\)", r"no_grad"),
    "J2": (r"\.train\(\)", r"eval\(\)|eval mode"),
    "J3": (r"validation loss", r"training loss"),
    "J4": (r"accuracy",),
    "J5": (r"weighted|\* len\(y\)|\* n\b", r"correct|accuracy"),
    "J6": (r"confusion matrix",),
    "J7": (r"precision", r"recall", r"\bF1\b"),
    "J8": (r"(?-i:\bROC\b|\bAUC\b)", r"(?-i:\bmAP\b)|average precision"),  # (?-i:): not "map"
    "J9": (r"history",),
    # K. Early stopping
    "K1": (r"patience",),
    "K2": (r"min_delta", r"mode"),
    "K3": (r"restore", r"best"),
    "K4": (r"EarlyStop\(", r"callback", r"stop_training", r"stopper\.step"),
    "K5": (r"compute|time", r"overfit"),
    # L. Checkpointing and saving
    "L1": (r"state_dict", r"whole model|pickle"),
    "L2": (r"load_state_dict", r"map_location"),
    "L3": (r"checkpoint", r"optimizer", r"epoch"),
    "L4": (r"resume",),
    "L5": (r"every epoch|each epoch", r"checkpoint"),
    "L6": (r"best", r"monitor|one metric"),
    "L7": (r"JSON", r"weights_only", r"pickle"),
    "L8": (r"JSON", r"history"),
    # M. GPU, devices, mixed precision
    "M1": (r"cuda", r"is_available|pick_device"),
    "M2": (r"\.to\(device\)|Module\.to|model\.to",),
    "M3": (r"\.to\(device\)",),
    "M4": (r"same device",),
    "M5": (r"device-agnostic|same code|any device",),
    "M6": (r"autocast",),
    "M7": (r"GradScaler", r"scale"),
    "M8": (r"bfloat16", r"float16"),
    "M9": (r"batch size", r"throughput", r"examples per second", r"ceiling"),
    "M10": (r"synchroni[sz]e", r"median", r"milliseconds per epoch"),
    "M11": (r"no loop|double loop", r"matrix product|broadcast"),
    # N. Debugging and monitoring
    "N1": (r"\bnan\b", r"first_bad_step|diagnose"),
    "N2": (r"×\s*10", r"÷\s*10", r"too small", r"labels shuffled|shuffled labels"),
    "N3": (r"more data", r"smaller model", r"weight decay|dropout", r"early stopping"),
    "N4": (r"overhead", r"compute-bound"),
    "N5": (r"overfit", r"small batch|32 (images|examples)", r"log ?10|\\log C"),
    "N6": (r"log line", r"\bstar\b"),
    "N7": (r"tensorboard", r"add_scalar", r"--logdir"),
    "N8": (r"\bCSV\b", r"CSVLogger", r"resum"),
    "N9": (r"history\[.lr.\]",),
    # O. Reproducibility and verification
    "O1": (r"resume", r"bit for bit|bit-identical|identical"),
    "O2": (r"pytorch", r"gradcheck|assert_allclose|differ"),
    "O3": (r"pytorch", r"sweep|benchmark"),
    "O4": (r"seed", r"generator|permutation"),
    # P. Practical tips and common mistakes
    "P1": (r"zero_grad",),
    "P2": (r"train mode|\.train\(\)", r"eval mode|eval\(\)"),
    "P3": (r"\.item\(\)", r"graph"),
    "P4": (r"before training", r"during training", r"during validation"),
    # Q. Distributed and other
    "Q1": (r"DistributedDataParallel|data[- ]parallel",),
    "Q2": (r"model[- ]parallel",),
    "Q3": (r"hyperparameter (search|optimi[sz]ation|sweep)|optuna",),
    "Q4": (r"lookahead", r"sharpness-aware|\bSAM\b"),
    # The seed statements the course corrects: the words that name each mistake where it is corrected
    "#1": (r"fresh tensor", r"no history|no graph", r"tutorials|ported"),
    "#2": (r"mistake", r"\(\\text\{in\}, N\)|\(in, N\)", r"regroup|scrambl"),
    "#3": (r"clamp", r"1e-7|10\^\{-7\}", r"stability"),
    "#4": (r"bias correction", r"3\.16"),
    "#5": (r"0\.99999", r"0\.99\b"),
    "#6": (r"large gradients\s+get smaller steps",),
    "#7": (r"[-−]0\.1\b", r"0\.91"),
    "#8": (r"(≥|>=|\\ge|\\geq)\s*0", r"convention"),
    "#9": (r"softmax layer|softmax as (the|its) last layer|ends? (in|with) a softmax", r"log-?softmax|log-sum-exp"),
    "#10": (r"xavier", r"relu", r"prevents?[^.]{0,30}vanishing"),
    "#11": (r"\bxor\b", r"100%"),
    "#12": (r"last 20", r"random_split", r"every epoch"),
    "#13": (r"restore", r"last"),
    "#14": (r"optimizer", r"scheduler", r"\bRNG\b", r"loader's generator|get_state"),
    "#15": (r"\[\"epoch\"\] \+ 1|saved epoch", r"loss\.item\(\)"),
    "#16": (r"no_grad", r"required"),
    "#17": (r"T_max", r"half", r"per batch"),
    "#18": (r"torch\.cuda\.amp", r"torch\.amp", r"deprecated|FutureWarning", r"unscale_"),
    "#19": (r"UnpicklingError", r"weights_only", r"map_location"),
    "#20": (r"test set", r"evaluate on test data"),
    "#21": (r"2\.0", r"1\.16", r"weighted"),
    "#22": (r"smooth ?L1", r"huber", r"β = δ = 1|\\beta = \\delta = 1|beta = delta = 1"),
    "#23": (r"one metric", r"val_acc|accuracy"),
    "#24": (r"only warms up", r"SequentialLR"),
    "#25": (r"is_leaf", r"randn", r"requires_grad_\(\)"),
}


# -------------------------------------------------------------------- reading the table and the notebooks
def rows():
    """The concept rows: (id, item, status, where)."""
    return [ROW.match(line).groups() for line in COVERAGE.read_text().splitlines() if ROW.match(line)]


def seed_rows():
    """The rows of the table of seed statements: ("#n", statement, where)."""
    text = COVERAGE.read_text().split("## Seed statements", 1)[1]
    return [("#" + m[1], m[2], m[3]) for m in map(SEED_ROW.match, text.splitlines()) if m]


def citing_rows():
    """Every row that cites sections, concept or seed statement: {id: where}."""
    return {key: where for key, _item, _status, where in rows()} | {key: where for key, _s, where in seed_rows()}


def _cell_text(cell):
    parts = [cell.source]
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append(output["text"])
        data = output.get("data", {})
        for mime in ("text/plain", "text/markdown", "text/html"):  # the first there: not HTML's styles too
            if mime in data:
                parts.append(data[mime])
                break
        if output.get("output_type") == "error":
            parts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    return "\n".join("".join(p) if isinstance(p, list) else p for p in parts)


@functools.cache
def lesson_sections(lesson):
    """{k: text} of the ``## k.`` sections of solution notebook ``lesson`` ("04"), or None if there is none.

    A section's text is every line of its markdown and code cells and their text outputs, from its ``## k.``
    heading (a line of a markdown cell) to the next ``## `` heading."""
    found = sorted((ROOT / "solutions").glob(f"{lesson}_*.ipynb"))
    if not found:
        return None
    sections, current = {}, None
    for cell in read_notebook(found[0]).cells:
        for line in _cell_text(cell).split("\n"):
            if cell.cell_type == "markdown" and line.startswith("## "):
                heading = re.match(r"## (\d+)\.", line)
                current = int(heading[1]) if heading else None
                if current is not None:
                    sections[current] = []
            if current is not None:
                sections[current].append(line)
    return {k: "\n".join(lines) for k, lines in sections.items()}


def sections(lesson):
    """The numbers k of the ``## k. Title`` sections of solution notebook ``lesson`` ("04"), or None."""
    found = lesson_sections(lesson)
    return None if found is None else set(found)


def key_word_problems(key, where):
    """What is wrong with row ``key``'s citations in ``where``: a list of lines, empty if the row holds."""
    words = KEY_WORDS[key]
    cited = list(dict.fromkeys(REF.findall(where)))  # in order, without repeats
    if not cited:  # a row that cites nothing (MISSING): see the tests of statuses and of MISSING rows
        return []
    texts = {f"L{n} §{k}": (lesson_sections(n) or {}).get(int(k), "") for n, k in cited}
    found = {word: [ref for ref, text in texts.items() if re.search(word, text, re.I)] for word in words}
    problems = [f"{key}: key word {word!r} is in none of {', '.join(texts)}" for word, refs in found.items()
                if not refs]
    problems += [f"{key}: {ref} holds none of the key words {list(words)}" for ref in texts
                 if not any(ref in refs for refs in found.values())]
    return problems


# -------------------------------------------------------------------- the tests
def test_the_table_lists_the_seed_concepts():
    keys = [key for key, *_ in rows()]
    assert len(keys) > 100 and len(keys) == len(set(keys))
    if SEED_CONCEPTS.exists():  # the seed material sits next to the repository, not in a clone of it
        listed = [m[1] for m in re.finditer(r"^\| ([A-Q]\d+) \|(.*)$", SEED_CONCEPTS.read_text(), re.M)
                  if "| n/a |" not in m[2]]  # Q5, language-specific performance: not counted
        assert sorted(keys) == sorted(listed)


def test_the_seed_table_lists_every_wrong_seed_statement():
    """Every row of seed-concepts.md §4, the seeds' wrong statements, is a row of the table of corrections."""
    ours = {key: statement for key, statement, _where in seed_rows()}
    assert sorted(ours, key=lambda k: int(k[1:])) == [f"#{n}" for n in range(1, len(ours) + 1)]
    assert len(ours) >= 25
    if not SEED_CONCEPTS.exists():
        pytest.skip(f"{SEED_CONCEPTS} is not here (a clone of the repository alone)")
    part4 = SEED_CONCEPTS.read_text().split("## 4.", 1)[1]
    theirs = {"#" + m[1]: m[2] for m in re.finditer(r"^\| (\d+) \| [^|]* \| (.*?) \| ", part4, re.M)}
    assert ours == theirs


@pytest.mark.parametrize("lesson", sorted({m[0] for m in REF.findall(COVERAGE.read_text())}))
def test_every_reference_names_a_section_that_exists(lesson):
    numbers = sections(lesson)
    assert numbers is not None, f"docs/coverage.md refers to lesson {lesson}, which has no solution notebook"
    missing = sorted({int(k) for n, k in REF.findall(COVERAGE.read_text()) if n == lesson} - numbers)
    assert missing == [], f"lesson {lesson} has no section(s) {missing}"


@functools.cache
def optional_sections(lesson):
    """The numbers k of the sections ``## k. Title (optional)`` of solution notebook ``lesson``: off the core path."""
    return {k for k, text in (lesson_sections(lesson) or {}).items()
            if "(optional)" in text.split("\n", 1)[0].lower()}


def test_a_citation_says_when_its_section_is_optional():
    """A learner on the core path skips the "(optional)" sections (issue 46), so the table says which concepts
    live only there: such a section is cited as ``Lnn §k (optional)``, and a core section never is."""
    wrong = []
    for match in re.finditer(r"L(\d\d) §(\d+)( \(optional\))?", COVERAGE.read_text()):
        lesson, k, said = match[1], int(match[2]), bool(match[3])
        if said != (k in optional_sections(lesson)):
            wrong.append(f"L{lesson} §{k} is a core section, cited as optional" if said else
                         f"L{lesson} §{k} is optional: cite it as 'L{lesson} §{k} (optional)'")
    assert not wrong, sorted(set(wrong))


def test_every_section_sign_is_a_whole_reference():
    """"L02 §4–5", "L03 §3/§5" or "L03" alone would escape the key-word test: each section is cited as Lnn §k."""
    text = REF.sub("", COVERAGE.read_text().replace("`Lnn §k`", ""))
    assert "§" not in text, [line for line in text.splitlines() if "§" in line]
    bare = [line for line in text.splitlines() if re.search(r"\bL\d\d\b(?! §)", line)]
    assert bare == [], "a lesson cited without its section"


def test_covered_rows_say_where_and_no_written_lesson_leaves_its_concepts_untaught():
    written = {p.name[:2] for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")}
    problems = []
    for key, _item, status, where in rows():
        if status == "COVERED" and not REF.search(where):
            problems.append(f"{key}: COVERED but no 'Lnn §k' says where")
        homes = set(re.findall(r"→ (\d\d)(?!/)", where))
        if status != "COVERED" and homes & written:
            problems.append(f"{key}: its home lesson {sorted(homes & written)} exists but does not teach it")
    for key, _statement, where in seed_rows():
        if not REF.search(where):
            problems.append(f"{key}: no 'Lnn §k' says where the lesson names and corrects it")
    assert problems == []


def test_every_row_has_key_words():
    """Every row, and only the table's rows, in KEY_WORDS; each word a valid regular expression."""
    assert sorted(KEY_WORDS) == sorted(citing_rows())
    for key, words in KEY_WORDS.items():
        assert words and isinstance(words, tuple), key
        for word in words:
            re.compile(word)


@pytest.mark.parametrize("key", list(citing_rows()))
def test_the_cited_sections_hold_the_key_words(key):
    """Every key word in at least one cited section; every cited section holds at least one key word."""
    assert key_word_problems(key, citing_rows()[key]) == []


def test_missing_rows_cite_every_section_that_mentions_them():
    """A concept marked MISSING: a section that holds one of its key words is cited in its row (which says what
    is there, e.g. an outlook), so that MISSING is never a claim the lessons contradict."""
    problems = []
    for key, _item, status, where in rows():
        if status != "MISSING":
            continue
        cited = set(REF.findall(where))
        for lesson in sorted({p.name[:2] for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")}):
            for k, text in lesson_sections(lesson).items():
                hits = [word for word in KEY_WORDS[key] if re.search(word, text, re.I)]
                if hits and (lesson, str(k)) not in cited:
                    problems.append(f"{key} is MISSING, but L{lesson} §{k} has {hits} and the row does not cite it")
    assert problems == []
