"""Issue 24: a model TFLM refuses whatever its arena (here: an operator that lost an
input) is reported as that, not as an arena too small after growing it to 256 MB."""
import time

import flatbuffers
import pytest
from click.testing import CliRunner

from edgegnn.cli import main
from edgegnn.deploy import mcu
from edgegnn.deploy.tflite_parse import _schema

from test_hardening_fuzz import _base_models


@pytest.fixture(scope="module")
def broken_for_tflm(tmp_path_factory):
  """The fuzz test's full-int8 dense GCN with its QUANTIZE operators turned into ADD:
  a valid flatbuffer (edgegnn's parser accepts it) whose ADDs have one input."""
  folder = tmp_path_factory.mktemp("tflm")
  _, dense = _base_models(folder)
  schema = _schema()
  model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(dense.read_bytes(), 0))
  for code in model.operatorCodes:
    if code.builtinCode == schema.BuiltinOperator.QUANTIZE:
      code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.ADD
  builder = flatbuffers.Builder(1024)
  builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
  path = folder / "broken.tflite"
  path.write_bytes(bytes(builder.Output()))
  return path


def test_a_tflm_failure_that_is_not_the_arena_says_so(broken_for_tflm):
  started = time.perf_counter()
  with pytest.raises(RuntimeError, match="(?s)arena size is not the cause.*ADD"):
    mcu.find_arena_size(broken_for_tflm.read_bytes())
  assert time.perf_counter() - started < 60
  result = CliRunner().invoke(main, ["bench", str(broken_for_tflm), "--runtime", "tflm",
                                     "--runs", "1"])
  assert result.exit_code == 1 and "arena size is not the cause" in result.output
  assert len(result.output.strip().splitlines()) == 1
