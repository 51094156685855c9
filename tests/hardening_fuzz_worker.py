"""Runs mutated .tflite files through `edgegnn inspect`, `edgegnn bench` and the runtime
wrapper, in this process; used by test_hardening_fuzz.py, which starts it as a subprocess
so that a crash here (a signal) is seen, not suffered, by the test.

    python hardening_fuzz_worker.py BASE.tflite SEED COUNT WORKDIR

Writes WORKDIR/current (the mutant about to run, for a crash report) and prints one JSON
line: {"mutants": ..., "ok": ..., "refused": ..., "problems": [...]}.
"""
import json
import pathlib
import sys

import numpy as np
from click.testing import CliRunner

from edgegnn.cli import main
from edgegnn.deploy import bench, runtimes, tflite_file


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
  """One of: flipped bytes, an overwritten 32-bit word (offsets, lengths, indices),
  a truncation, a zeroed range, inserted bytes."""
  out = bytearray(data)
  kind = rng.integers(5)
  if kind == 0:
    for position in rng.integers(0, len(out), size=rng.integers(1, 5)):
      out[position] ^= int(rng.integers(1, 256))
  elif kind == 1:
    position = int(rng.integers(0, len(out) - 4)) & ~3
    word = rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, int(rng.integers(0, 2 ** 32)),
                       len(out), len(out) + 4])
    out[position:position + 4] = int(word).to_bytes(4, "little")
  elif kind == 2:
    out = out[:int(rng.integers(0, len(out)))]
  elif kind == 3:
    start = int(rng.integers(0, len(out)))
    out[start:start + int(rng.integers(1, 64))] = bytes(min(64, len(out) - start))[
        :len(out[start:start + 64])]
  else:
    position = int(rng.integers(0, len(out)))
    out[position:position] = rng.integers(0, 256, size=rng.integers(1, 16), dtype=np.uint8
                                          ).tobytes()
  return bytes(out)


def _cli_problem(result, what):
  if result.exception is not None and not isinstance(result.exception, SystemExit):
    return f"{what}: escaped {type(result.exception).__name__}: {result.exception}"
  if "Traceback" in result.output or "unexpected" in result.output:
    return f"{what}: {result.output.strip()[-300:]}"
  if result.exit_code not in (0, 1):
    return f"{what}: exit {result.exit_code}"
  if result.exit_code == 1 and len(result.output.strip().splitlines()) != 1:
    return f"{what}: {len(result.output.strip().splitlines())} lines"
  return None


def main_(base, seed, count, workdir):
  workdir = pathlib.Path(workdir)
  data = pathlib.Path(base).read_bytes()
  rng = np.random.default_rng(seed)
  # Dynamic dimensions (edge counts) of the base model get a size, so that bench times
  # and the runtime runs every mutant the parser accepts.
  shapes = {io.name: tuple(d if d >= 0 else 40 for d in io.tensor.shape_signature)
            for io in tflite_file.read_model(data).inputs}
  shape_options = [option for name, shape in shapes.items()
                   for option in ("--input-shape", f"{name}={','.join(map(str, shape))}")]
  runner = CliRunner()
  ok = refused = 0
  problems = []
  for k in range(count):
    mutant = mutate(data, rng)
    path = workdir / f"mutant_{seed}_{k}.tflite"
    path.write_bytes(mutant)
    (workdir / "current").write_text(str(path))
    found = [_cli_problem(runner.invoke(main, ["inspect", str(path), "--json"]), "inspect"),
             _cli_problem(runner.invoke(main, ["bench", str(path), "--runs", "1",
                                               "--warmup", "0", *shape_options]), "bench")]
    try:
      runtime = runtimes.open_runtime(str(path))
      runtime.run(bench.synthesize_inputs(runtime.info, seed=k, shapes=shapes))
      ok += 1
    except (ValueError, RuntimeError):  # a clear refusal (CorruptModelError is a ValueError)
      refused += 1
    except Exception as e:  # pylint: disable=broad-except
      found.append(f"runtime: {type(e).__name__}: {e}"[:300])
    found = [p for p in found if p]
    if found:
      problems.append({"mutant": str(path), "problems": found})
    else:
      path.unlink()
  print(json.dumps({"mutants": count, "ok": ok, "refused": refused, "problems": problems}))


if __name__ == "__main__":
  main_(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
