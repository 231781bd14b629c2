"""The author's tool that finds outputs depending on the machine (tests/output_matrix.py)."""
import nbformat

import output_matrix
from notebook_tools import ROOT


def test_each_configuration_sets_its_own_variables_and_clears_the_others(monkeypatch):
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx512")   # left over from the caller's shell
    monkeypatch.setenv("COURSE_THREADS", "3")
    native = output_matrix.environment("native")
    assert "ATEN_CPU_CAPABILITY" not in native and "COURSE_THREADS" not in native
    scalar = output_matrix.environment("scalar")
    assert scalar["ATEN_CPU_CAPABILITY"] == "default" and scalar["OPENBLAS_CORETYPE"] == "Nehalem"
    assert output_matrix.environment("threads2")["COURSE_THREADS"] == "2"
    assert output_matrix.SUITE_CONFIGURATION in output_matrix.CONFIGURATIONS


def test_compared_outputs_follow_nbval_ignores_and_sanitize_rules():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="end ≈14% (< 30%) at /tmp/x1\n")]),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(2)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="2\n")]),
        nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                                                nbformat.v4.new_output("execute_result", data={"text/plain": "3", "image/png": "iVBOR"})]),
    ]
    assert output_matrix.compared_outputs(nb) == ["end ~N (< 30%) at TMPPATH\n", None, "3"]


def test_a_cell_that_prints_the_configuration_is_found_fragile(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import os\nprint(os.environ.get('ATEN_CPU_CAPABILITY', 'native'))"),
        nbformat.v4.new_code_cell("print(6 * 7)"),
    ]
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="native\n")]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, str(path))
    fragile = output_matrix.fragile_cells(path, ["native", "scalar"], jobs=2)
    assert list(fragile) == [0]
    assert fragile[0] == {"committed": "native\n", "native": "native\n", "scalar": "default\n"}
