"""Tampering: a static read of the student's cells, and the grader's own cells that verify the kernel afterwards.

Three layers, each able to catch what another misses:

1. static: the exercise cells are parsed (after IPython's own transforms) and
   any write to a name or module of the course, to builtins, ``sys.modules``,
   IPython's hooks or a function's ``__code__`` is reported before anything runs;
2. records: a grader cell before and after each check cell records
   ``course_utils.labs.RESULTS``, so a check cell must add exactly its own
   result(s), earlier results must stay as they were, and the result must be
   what the cell displayed;
3. a last grader cell hashes the code of every function and method of every
   ``course_utils`` module loaded in the kernel, and of every function a check
   cell calls; the grader compares those hashes with its own, made by compiling
   the package's source files (not importing them), and reads builtins, IPython's
   hooks, the streams and the threads.

Every grader cell prints one line that starts with a random token made for
that submission, so a student's cell cannot print a line the grader takes for
its own. None of this is a sandbox: see the README's "For instructors".
"""
from __future__ import annotations

import ast
import builtins
import functools
import inspect
import json
import secrets
import types
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
GRADER_OUTPUT_MARK = "[output stopped by the grader"


def code_digest(code) -> str:
    """A hash of a code object that ignores where it sits (file, line numbers); the same in any process."""
    import hashlib
    import types

    def normal(value):
        if isinstance(value, types.CodeType):
            return ("code", value.co_qualname, value.co_code.hex(), tuple(normal(c) for c in value.co_consts),
                    value.co_names, value.co_varnames, value.co_freevars, value.co_cellvars,
                    value.co_argcount, value.co_kwonlyargcount, value.co_flags)
        if isinstance(value, frozenset):  # its repr's order depends on the hash seed
            return ("frozenset", tuple(sorted(repr(normal(v)) for v in value)))
        if isinstance(value, tuple):
            return ("tuple", tuple(normal(v) for v in value))
        return repr(value)

    return hashlib.sha256(repr(normal(code)).encode()).hexdigest()[:20]


# ---------------------------------------------------------------- what the course's code is

def _walk_code(code, found: dict) -> None:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found[const.co_qualname] = code_digest(const)
            _walk_code(const, found)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, level: int, target: str | None, is_package: bool) -> str:
    if not level:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - level + 1]
    return ".".join(base + ([target] if target else []))


@functools.lru_cache(maxsize=1)
def course_code() -> dict:
    """Per module of the package: the hash of every function by qualname, and the names it imports from the course.

    Made by compiling the source files, so nothing of the course runs in the grader.
    """
    expected = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        name = _module_name(path)
        source = path.read_text()
        tree = ast.parse(source)
        digests: dict = {}
        _walk_code(compile(source, str(path), "exec", dont_inherit=True), digests)
        plain_defs = {node.name for node in tree.body
                      if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.decorator_list}
        imports = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                origin = _resolve(name, node.level, node.module, path.name == "__init__.py")
                if origin.startswith("course_utils"):
                    for alias in node.names:
                        imports[alias.asname or alias.name] = (origin, alias.name)
        expected[name] = {"digests": digests, "plain_defs": sorted(plain_defs), "imports": imports}
    return expected


def source_fingerprint() -> dict:
    """The package's files as they are now: a student's code that rewrites them shows at the end of a run."""
    import hashlib

    return {str(p.relative_to(PACKAGE_DIR)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(PACKAGE_DIR.rglob("*.py"))}


# ---------------------------------------------------------------- layer 1: static

# Attributes whose mere use in an exercise reaches into the interpreter or the grader: on any
# object, or only on the module or object named (model.modules() is PyTorch's, sys.modules is not).
FORBIDDEN_ATTRIBUTES = {"__code__": "a function's __code__", "__globals__": "a function's __globals__",
                        "__builtins__": "__builtins__", "RESULTS": "course_utils.labs.RESULTS"}
OWNED_ATTRIBUTES = {
    "sys": {"modules", "settrace", "setprofile", "displayhook", "excepthook", "addaudithook"},
    "gc": {"get_referrers", "get_objects"},
    "get_ipython": {"events", "ast_transformers", "input_transformers_post", "input_transformers_cleanup",
                    "input_transformer_manager"},
}
FORBIDDEN_MODULES = {"builtins", "ctypes"}
FORBIDDEN_CALLS = {"exec", "eval", "compile", "__import__", "setattr", "delattr", "globals", "vars"}


def course_names(cells) -> set:
    """Names the lab's own cells bind by importing from course_utils (``cu``, ``lab``, ``check_fit``, ...)."""
    names = set()
    for cell in cells:
        tree = _parse(cell.source)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Import):
                names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("course_utils"))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils"):
                names.update(a.asname or a.name for a in node.names)
    return names


def python_source(cell_source: str) -> str:
    """The cell as IPython runs it: magics and ``!commands`` become calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def _parse(source: str):
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def syntax_error(source: str) -> str | None:
    """'line 3: invalid syntax' for a cell that does not compile, else None."""
    try:
        ast.parse(python_source(source))
    except SyntaxError as error:
        return f"line {error.lineno}: {error.msg}"
    return None


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _owner(node, aliases: dict):
    """'sys' for sys (or an alias of it), 'get_ipython' for get_ipython() or a name bound to it, else None."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    return None


def _targets(node):
    if isinstance(node, (ast.Assign,)):
        return node.targets
    if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return [node.optional_vars]
    if isinstance(node, ast.Delete):
        return node.targets
    return []


def _flatten(targets):
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            yield from _flatten(target.elts)
        elif isinstance(target, ast.Starred):
            yield from _flatten([target.value])
        else:
            yield target


def _course_imports(tree) -> set:
    """Names a cell binds by importing from course_utils itself."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("course_utils"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils"):
            names.update(a.asname or a.name for a in node.names)
    return names


def _writes(node, protected: set, course: set):
    """Assignments, deletions and definitions that change the course's names or modules."""
    for target in _flatten(_targets(node)):
        root = _root_name(target)
        if isinstance(target, ast.Name) and target.id in protected:
            yield target, f"rebinds {target.id}, which the lab imports from course_utils"
        elif not isinstance(target, ast.Name) and root in course:
            yield target, f"writes into {ast.unparse(target)}, part of course_utils"
        elif not isinstance(target, ast.Name) and root in FORBIDDEN_MODULES | {"sys"}:
            yield target, f"writes into {ast.unparse(target)}"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in protected:
        yield node, f"defines {node.name}, which the lab imports from course_utils"
    if isinstance(node, (ast.Global, ast.Nonlocal)) and set(node.names) & protected:
        yield node, f"declares {', '.join(sorted(set(node.names) & protected))} global, to rebind it"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            module = (node.module if isinstance(node, ast.ImportFrom) else alias.name) or ""
            if bound in protected and not module.startswith("course_utils"):
                yield node, f"rebinds {bound}, which the lab imports from course_utils"
            if module.split(".")[0] in FORBIDDEN_MODULES:
                yield node, f"imports {module}, which can rewrite the course's code or the interpreter"


def _reaches(node, aliases: dict):
    """Uses of the interpreter's machinery: sys.modules, __code__, exec(), IPython's hooks."""
    owner = _owner(node.value, aliases) if isinstance(node, ast.Attribute) else None
    if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
        yield node, f"uses {FORBIDDEN_ATTRIBUTES[node.attr]}"
    elif owner in OWNED_ATTRIBUTES and node.attr in OWNED_ATTRIBUTES[owner]:
        yield node, f"uses {owner}{'()' if owner == 'get_ipython' else ''}.{node.attr}"
    if isinstance(node, ast.Name) and node.id in {"__builtins__", "RESULTS"}:
        yield node, f"uses {node.id}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
        yield node, f"calls {node.func.id}(), which can change names the grader cannot see"


def static_findings(source: str, protected: set) -> list:
    """What in one exercise cell reaches into the course or the interpreter, as 'line N: ...' sentences."""
    tree = _parse(source)
    if tree is None:
        return []
    protected = set(protected) | {"course_utils"}
    course = protected | _course_imports(tree)
    aliases = {(a.asname or a.name): a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for a in node.names if a.name in OWNED_ATTRIBUTES}  # import sys as s
    found = {(getattr(where, "lineno", 0), text) for node in ast.walk(tree)
             for where, text in [*_writes(node, protected, course), *_reaches(node, aliases)]}
    return [f"line {line}: {text}" for line, text in sorted(found)]


# ---------------------------------------------------------------- layers 2 and 3: the grader's cells

def new_token() -> str:
    return "GRADER-" + secrets.token_hex(12)


def _cell(body: str, name: str) -> str:
    return f"def {name}():\n{body}\n{name}()\ndel {name}\n"


def preamble_source(output_limit_chars: int) -> str:
    """The first cell: cap what the kernel's streams accept, so a flood of printing stops in the kernel."""
    body = f'''    import io, sys
    import ipykernel.iostream as iostream

    class OutputLimitReached(BaseException):
        """The notebook printed more than the grader accepts."""

    state = {{"chars": 0, "reached": False}}

    class CappedBuffer(io.StringIO):
        """Where the kernel's streams gather text before sending it: past the cap, one error, then nothing."""

        def write(self, string):
            if state["reached"]:  # drop it: raising again would break the kernel's own error report
                return len(string)
            state["chars"] += len(string)
            if state["chars"] > {output_limit_chars}:
                state["reached"] = True
                super().write("\\n{GRADER_OUTPUT_MARK}: over {output_limit_chars} characters]\\n")
                raise OutputLimitReached("the notebook printed more than {output_limit_chars} characters")
            return super().write(string)

    # Below IPython's per-cell wrapper of stream.write: the buffers ipykernel's streams fill and rotate.
    iostream.StringIO = CappedBuffer
    for stream in (sys.stdout, sys.stderr):
        stream._rotate_buffers()'''
    return _cell(body, "_grader_preamble")


def record_source(token: str, label: str) -> str:
    """A cell that prints every result recorded so far (around each check cell)."""
    body = f'''    import json, sys
    labs = sys.modules.get("course_utils.labs")
    results = list(getattr(labs, "RESULTS", []))
    kind = getattr(labs, "CheckResult", None)
    records = [{{"id": id(r), "exact_type": type(r) is kind, "check": str(getattr(r, "check", "")),
                "passed": getattr(r, "passed", None) is True, "evidence": [str(e) for e in getattr(r, "evidence", [])],
                "hint": str(getattr(r, "hint", "")), "text": str(r)}} for r in results]
    print({token!r} + json.dumps({{"label": {label!r}, "results": records}}))'''
    return _cell(body, "_grader_record")


def final_source(token: str, called: list) -> str:
    """The last cell: hashes of the course's code in the kernel, and what else a student could have hooked."""
    digest_source = inspect.getsource(code_digest)
    body = f'''    import builtins, json, sys, threading, types
    from IPython import get_ipython
{_indent(digest_source, 4)}
    def describe(value):
        if isinstance(value, types.FunctionType):
            return ["function", value.__module__, value.__qualname__, code_digest(value.__code__)]
        if isinstance(value, type):
            methods = {{}}
            for attr, member in list(vars(value).items()):
                target = member.fget if isinstance(member, property) else \
                    member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
                if isinstance(target, types.FunctionType):
                    methods[attr] = [target.__qualname__, code_digest(target.__code__)]
            return ["class", value.__module__, value.__qualname__, methods]
        return ["other", type(value).__module__, type(value).__qualname__]

    modules = {{}}
    for name, module in list(sys.modules.items()):
        if name == "course_utils" or name.startswith("course_utils."):
            entry = {{"type": type(module).__name__, "file": str(getattr(module, "__file__", "")),
                     "name": str(getattr(module, "__name__", ""))}}
            if isinstance(module, types.ModuleType):
                entry["globals"] = {{}}
                for key, value in list(vars(module).items()):
                    try:
                        entry["globals"][key] = describe(value)
                    except Exception as error:  # an odd object must not hide the others
                        entry["globals"][key] = ["other", "error", type(error).__name__]
            modules[name] = entry
    shell = get_ipython()
    namespace = shell.user_ns
    called = {{}}
    for dotted in {called!r}:
        value, parts = namespace.get(dotted.split(".")[0]), dotted.split(".")[1:]
        for part in parts:
            value = getattr(value, part, None)
        called[dotted] = describe(value)
    report = {{
        "modules": modules,
        "called": called,
        "builtins": {{n: [type(v).__name__, str(getattr(v, "__module__", None))] for n, v in list(vars(builtins).items())}},
        "events": {{event: [str(getattr(f, "__module__", None) or type(f).__module__) for f in callbacks]
                   for event, callbacks in shell.events.callbacks.items()}},
        "transformers": [type(t).__module__ for t in shell.ast_transformers]
                        + [str(getattr(t, "__module__", None)) for t in shell.input_transformers_post]
                        + [str(getattr(t, "__module__", None)) for t in shell.input_transformer_manager.cleanup_transforms],
        "threads": [[type(t).__module__, str(getattr(getattr(t, "_target", None), "__module__", None))] for t in threading.enumerate()],
        "tracing": [sys.gettrace() is None, sys.getprofile() is None],
        "streams": [type(sys.stdout).__module__, type(sys.stderr).__module__, type(sys.displayhook).__module__],
        "results_list": type(getattr(sys.modules.get("course_utils.labs"), "RESULTS", None)) is list,
    }}
    print({token!r} + json.dumps(report))'''
    return _cell(body, "_grader_final")


def _indent(text: str, spaces: int) -> str:
    return "\n".join((" " * spaces + line) if line.strip() else line for line in text.splitlines())


def payload(cell, token: str):
    """The JSON a grader cell printed after its token, or None if it printed none."""
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stdout":
            for line in output.get("text", "").splitlines():
                if line.startswith(token):
                    try:
                        return json.loads(line[len(token):])
                    except ValueError:
                        return None
    return None


# ---------------------------------------------------------------- layer 3: the comparison

TRUSTED_HOOK_MODULES = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "ipywidgets", "comm", "jupyter")


def _trusted(module: str) -> bool:
    return module == "None" or module.split(".")[0] in TRUSTED_HOOK_MODULES or module in ("threading",)


def _definition_problem(expected: dict, value, module: str, name: str):
    kind = value[0]
    if kind == "function":
        _, owner, qualname, digest = value
        if expected.get(owner, {}).get("digests", {}).get(qualname) != digest:
            return f"{module}.{name} is not the course's own function (it is {owner}.{qualname})"
    elif kind == "class":
        _, owner, qualname, methods = value
        digests = expected.get(owner, {}).get("digests", {})
        for attr, (method_qualname, digest) in sorted(methods.items()):
            if method_qualname.startswith(qualname + ".") and digests.get(method_qualname) not in (None, digest):
                return f"{module}.{name}.{attr} was changed"
            if not method_qualname.startswith(qualname + ".") and not owner.startswith("course_utils"):
                return f"{module}.{name}.{attr} was replaced"
        if owner not in expected or qualname not in digests:
            return f"{module}.{name} is not the course's own class"
    else:
        return f"{module}.{name} is a {value[2]}, not the course's own code"
    return None


def runtime_findings(report: dict, expected: dict) -> list:
    """What the last grader cell found that the course's own code would not show, as sentences."""
    found = []
    for module, entry in sorted(report.get("modules", {}).items()):
        found += _module_problems(module, entry, expected)
    for dotted, value in sorted(report.get("called", {}).items()):
        if _definition_problem(expected, value, "", dotted):
            found.append(f"{dotted}, which the check cell calls, is not the course's own code")
    return found + _interpreter_findings(report)


def _module_problems(key: str, entry: dict, expected: dict) -> list:
    """Problems of one sys.modules entry of course_utils: its identity, its functions and what it imported."""
    real = entry.get("type") == "module" and _inside_package(Path(entry.get("file") or ""))
    if key not in expected:  # an old name the course maps to a module of today (course_utils.MOVED) is fine
        return [] if real and entry.get("name") in expected else [f"sys.modules holds {key}, which the course does not have"]
    if not real or entry.get("name") != key:
        return [f"sys.modules[{key!r}] is not the course's module"]
    course, names = expected[key], entry.get("globals", {})
    problems = [_definition_problem(expected, names[name], key, name) for name in course["plain_defs"] if name in names]
    for name, (origin, attr) in sorted(course["imports"].items()):
        value = names.get(name)
        if value and (value[0] != "other" or attr in expected.get(origin, {}).get("plain_defs", [])):
            problems.append(_definition_problem(expected, value, key, name))  # not constants, or submodules
    return [p for p in problems if p]


def _inside_package(file: Path) -> bool:
    try:
        file.resolve().relative_to(PACKAGE_DIR)
        return True
    except (ValueError, OSError):
        return False


def _interpreter_findings(report: dict) -> list:
    found = []
    ours = {name: value for name, value in vars(builtins).items()
            if isinstance(value, (types.BuiltinFunctionType, type)) and name != "input"}  # ipykernel replaces input
    for name, value in sorted(ours.items()):
        seen = report.get("builtins", {}).get(name)
        if seen != [type(value).__name__, str(getattr(value, "__module__", None))]:
            found.append(f"builtins.{name} was replaced")
    for event, modules in sorted(report.get("events", {}).items()):
        found += [f"an IPython {event} hook from {m}" for m in modules if not _trusted(m)]
    found += [f"an IPython input or AST transformer from {m}" for m in report.get("transformers", []) if not _trusted(m)]
    found += [f"a thread started by {target if target != 'None' else cls} still runs"
              for cls, target in report.get("threads", []) if not (_trusted(cls) and _trusted(target))]
    if report.get("tracing") != [True, True]:
        found.append("a trace or profile function is set (sys.settrace / sys.setprofile)")
    if any(not _trusted(m) for m in report.get("streams", [])):
        found.append("sys.stdout, sys.stderr or sys.displayhook was replaced")
    if report.get("results_list") is not True:
        found.append("course_utils.labs.RESULTS is not the course's list")
    return found
