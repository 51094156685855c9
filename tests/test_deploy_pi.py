"""`edgegnn deploy pi`: the bundle, its numpy + ai-edge-litert runner, and a real SSH round
trip against an OpenSSH server started on loopback (key auth, throwaway keys and paths)."""
import ast
import getpass
import hashlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from edgegnn import pipeline
from edgegnn.cli import main
from edgegnn.deploy import pi, ssh
from edgegnn.deploy.pi_bundle import build_bundle, runtime_files
from edgegnn.runtime import bundle_runner, timing
from edgegnn.pipeline.config import parse

TINY = {
    "name": "tiny_pi", "dataset": "cora",
    "stages": [
        {"train": {"name": "gcn", "model": {"architecture": "gcn", "input_normalization": "row"},
                   "train": {"epochs": 30, "patience": 30, "seeds": [0]}}},
        {"export": {"model": "gcn", "formats": ["tflite-float32", "tflite-dynamic-int8"],
                    "target": "mobile", "bench_runs": 3}},
    ]}
SSHD = "/usr/sbin/sshd"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
  """A real finished run: a GCN trained briefly on Cora, exported to two formats."""
  out = tmp_path_factory.mktemp("run")
  pipeline.Runner(parse(TINY), out=str(out), log=lambda _: None, progress=False).run()
  return out


def _clean_env():
  return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TF_USE_LEGACY_KERAS")}


def _imported(path):
  """Top-level names of a file's absolute imports (at any depth of the file)."""
  names = set()
  for node in ast.walk(ast.parse(pathlib.Path(path).read_text())):
    if isinstance(node, ast.Import):
      names |= {a.name.split(".")[0] for a in node.names}
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
      names.add(node.module.split(".")[0])
  return names


def test_runner_and_its_runtime_modules_import_only_numpy_and_runtimes():
  files = [pathlib.Path(bundle_runner.__file__), *runtime_files()]
  names = {p.name for p in files}
  assert {"interpreters.py", "tensors.py", "input_checks.py", "timing.py", "tflite_parse.py",
          "__init__.py"} <= names
  assert not names & {"bench.py", "khop.py", "mcu.py", "sidecar.py"}  # not needed there
  imported = set().union(*map(_imported, files)) - set(sys.stdlib_module_names)
  # numpy, and each runtime package only inside the interpreter that uses it.
  assert imported == {"numpy", "ai_edge_litert", "larq_compute_engine", "tflite_micro",
                      bundle_runner.BUNDLED_PACKAGE}


def test_bundle_only_runs_offline_without_edgegnn(run_dir, tmp_path):
  bundle = tmp_path / "bundle"
  result = CliRunner().invoke(main, ["deploy", "pi", "--run", str(run_dir), "--bundle-only",
                                     str(bundle)])
  assert result.exit_code == 0, result.output
  report = json.loads((run_dir / "report.json").read_text())
  manifest = json.loads((bundle / "manifest.json").read_text())
  names = [a["name"] for a in report["artifacts"]]
  assert [a["name"] for a in manifest["artifacts"]] == names
  assert (manifest["task"], manifest["examples"], manifest["num_nodes"]) == ("node", 1, 2708)
  assert sorted(p.name for p in (bundle / "inputs" / "sparse_cNone_kNone" / "00000").iterdir()) \
      == ["edge_source.npy", "edge_target.npy", "node_features.npy"]
  assert np.load(bundle / "labels.npy").shape == (1000,)
  for a in manifest["artifacts"]:
    assert (bundle / a["sidecar"]).is_file()
    assert np.load(bundle / a["expected"]).shape == (1000, 7)
  # Run it as a device would: a bare interpreter in the bundle directory, no PYTHONPATH;
  # then check nothing of edgegnn or TensorFlow was imported.
  # The device runs the host's code: the runner and the runtime modules, byte for byte.
  assert (bundle / "run_bundle.py").read_bytes() == pathlib.Path(
      bundle_runner.__file__).read_bytes()
  shipped = sorted((bundle / "edgegnn_runtime").iterdir())
  assert [p.name for p in shipped] == [p.name for p in runtime_files()]
  for copy, original in zip(shipped, runtime_files()):
    assert copy.read_bytes() == original.read_bytes(), copy.name
  check = ("import runpy, sys; sys.argv = ['run_bundle.py', '--runs', '3', '--warmup', '1'];"
           "runpy.run_path('run_bundle.py', run_name='__main__');"
           "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
           "('edgegnn', 'tensorflow', 'keras', 'tf_keras')); assert not bad, bad;"
           "assert 'edgegnn_runtime.interpreters' in sys.modules")
  done = subprocess.run([sys.executable, "-c", check], cwd=bundle, env=_clean_env(),
                        capture_output=True, text=True, timeout=300, check=False)
  assert done.returncode == 0, done.stderr[-3000:]
  results = json.loads((bundle / "results.json").read_text())
  for a in report["artifacts"]:
    device = results["artifacts"][a["name"]]
    assert device["agreement"] == 1.0 and device["max_abs_diff"] == 0.0
    assert device["test_accuracy"] == a["test_accuracy"]
    assert device["latency_ms"]["p90"] >= device["latency_ms"]["p50"] > 0
    assert device["timed"] == timing.TIMED_INVOKE  # as `edgegnn bench` times on litert
    np.testing.assert_array_equal(np.load(bundle / "results" / f"{a['name']}.npy"),
                                  np.load(bundle / "expected" / f"{a['name']}.npy"))
  assert results["device"]["machine"] == os.uname().machine


def test_bundle_only_json_describes_the_bundle_written(run_dir, tmp_path):
  bundle = tmp_path / "bundle"
  result = CliRunner(mix_stderr=False).invoke(
      main, ["deploy", "pi", "--run", str(run_dir), "--bundle-only", str(bundle), "--json"])
  assert result.exit_code == 0, result.stderr
  document = json.loads(result.stdout)
  manifest = json.loads((bundle / "manifest.json").read_text())
  assert document["artifacts"] == [a["name"] for a in manifest["artifacts"]]
  assert document["examples"] == manifest["examples"]
  assert document["bytes"] == sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
  assert (bundle / document["runner"]).is_file()


def test_bundle_errors_name_the_fix(run_dir, tmp_path):
  with pytest.raises(ValueError, match=r"unknown artifact\(s\) \['nope'\]"):
    build_bundle(run_dir, tmp_path / "b", artifacts=["nope"])
  with pytest.raises(FileNotFoundError, match="edgegnn run PIPELINE"):
    build_bundle(tmp_path, tmp_path / "b")
  result = CliRunner().invoke(main, ["deploy", "pi", "--run", str(run_dir)])
  assert result.exit_code != 0 and "give exactly one of --host" in result.output


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _keygen(path):
  subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@pytest.fixture()
def sshd(tmp_path):
  """An OpenSSH server on 127.0.0.1: throwaway host key, one authorized key, no passwords."""
  if not os.path.exists(SSHD):
    pytest.fail(f"{SSHD} is missing: install OpenSSH's server (as root: "
                "`apt-get install -y openssh-server`, or run tools/setup.sh) to run the "
                "deploy-over-SSH test.")
  home = tmp_path / "sshd"
  home.mkdir()
  _keygen(home / "host_key")
  _keygen(home / "client_key")
  shutil.copyfile(home / "client_key.pub", home / "authorized_keys")
  port = _free_port()
  # The client knows this server's key, as after `ssh-keyscan` (unknown keys are refused).
  key_type, key = (home / "host_key.pub").read_text().split()[:2]
  (home / "known_hosts").write_text(f"[127.0.0.1]:{port} {key_type} {key}\n")
  config = home / "sshd_config"
  config.write_text("\n".join([
      f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {home / 'host_key'}",
      f"AuthorizedKeysFile {home / 'authorized_keys'}", "PubkeyAuthentication yes",
      "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
      "StrictModes no", "PermitRootLogin prohibit-password", f"PidFile {home / 'sshd.pid'}",
      "Subsystem sftp internal-sftp", f"AllowUsers {getpass.getuser()}", ""]))
  if os.geteuid() == 0:
    os.makedirs("/run/sshd", exist_ok=True)  # privilege-separation directory
  process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
  deadline = time.time() + 20
  while True:
    try:
      socket.create_connection(("127.0.0.1", port), timeout=1).close()
      break
    except OSError:
      if process.poll() is not None or time.time() > deadline:
        process.kill()
        pytest.fail(f"sshd did not start: {process.stdout.read()}")
      time.sleep(0.2)
  yield {"port": port, "key": str(home / "client_key"), "known_hosts": str(home / "known_hosts"),
         "user": getpass.getuser(), "home": tmp_path}
  process.terminate()
  process.wait(timeout=10)


def test_deploy_pi_over_loopback_ssh(run_dir, sshd, tmp_path):
  remote = tmp_path / "device" / "edgegnn_bundle"
  host = f"{sshd['user']}@127.0.0.1"
  result = CliRunner().invoke(main, [
      "deploy", "pi", "--run", str(run_dir), "--host", host, "--port", str(sshd["port"]),
      "--identity", sshd["key"], "--known-hosts", sshd["known_hosts"],
      "--python", sys.executable, "--remote-dir", str(remote), "--label", "loopback",
      "--runs", "3", "--warmup", "1"])
  assert result.exit_code == 0, result.output
  assert (remote / "run_bundle.py").is_file() and (remote / "results.json").is_file()
  report = json.loads((run_dir / "report.json").read_text())
  device, = report["devices"]
  assert (device["label"], device["host"], device["runs"]) == ("loopback", host, 3)
  assert device["machine"] == os.uname().machine
  for a in report["artifacts"]:
    assert device["artifacts"][a["name"]]["agreement"] == 1.0
    fetched = run_dir / "deploy" / "loopback" / "fetched" / "logits" / f"{a['name']}.npy"
    expected = run_dir / "deploy" / "loopback" / "bundle" / "expected" / f"{a['name']}.npy"
    np.testing.assert_array_equal(np.load(fetched), np.load(expected))
  md = (run_dir / "report.md").read_text()
  assert "| loopback agreement | loopback p50 (ms) | loopback p90 (ms) |" in md
  p50 = device["artifacts"][report["artifacts"][0]["name"]]["latency_ms"]["p50"]
  assert f"| 1.0000 | {p50:.2f} |" in md
  assert "loopback" in (run_dir / "report.html").read_text()
  # A second deploy with the same label replaces the column instead of adding one.
  again = CliRunner().invoke(main, [
      "deploy", "pi", "--run", str(run_dir), "--host", host, "--port", str(sshd["port"]),
      "--identity", sshd["key"], "--known-hosts", sshd["known_hosts"],
      "--python", sys.executable, "--remote-dir", str(remote), "--label", "loopback",
      "--runs", "2", "--warmup", "0", "--artifact", report["artifacts"][0]["name"]])
  assert again.exit_code == 0, again.output
  devices = json.loads((run_dir / "report.json").read_text())["devices"]
  assert len(devices) == 1 and devices[0]["runs"] == 2 and len(devices[0]["artifacts"]) == 1
  # Re-running the pipeline (every stage cached, artifact files unchanged) keeps the column.
  pipeline.Runner(parse(TINY), out=str(run_dir), log=lambda _: None, progress=False).run()
  rerun = json.loads((run_dir / "report.json").read_text())
  assert rerun["devices"] == devices
  assert "loopback agreement" in (run_dir / "report.md").read_text()


def test_device_columns_survive_only_for_unchanged_artifacts(tmp_path):
  (tmp_path / "a.tflite").write_bytes(b"first model")
  (tmp_path / "b.tflite").write_bytes(b"second model")
  artifacts = [{"name": "a", "path": "a.tflite"}, {"name": "b", "path": "b.tflite"}]
  device = {"label": "pi4", "artifacts": {
      "a": {"agreement": 1.0, "sha256": pi.file_sha256(tmp_path / "a.tflite")},
      "b": {"agreement": 0.99, "sha256": pi.file_sha256(tmp_path / "b.tflite")}}}
  old = {"label": "pi3", "artifacts": {"a": {"agreement": 1.0}}}  # no sha256: from before
  assert pi.carry_over_devices([device, old], artifacts, tmp_path) == [device]
  (tmp_path / "b.tflite").write_bytes(b"second model, rebuilt")
  kept, = pi.carry_over_devices([device], artifacts, tmp_path)
  assert list(kept["artifacts"]) == ["a"]
  assert pi.carry_over_devices([device], artifacts[1:], tmp_path) == []
  assert pi.file_sha256(tmp_path / "a.tflite") == hashlib.sha256(b"first model").hexdigest()


def test_ssh_failures_name_host_and_cause(sshd, tmp_path):
  other = tmp_path / "other_key"
  _keygen(other)
  target = ssh.SshTarget(f"{sshd['user']}@127.0.0.1", port=sshd["port"], identity=str(other),
                         known_hosts=sshd["known_hosts"])
  with pytest.raises(ssh.SshError, match=rf"authentication to {sshd['user']}@127.0.0.1 port "
                     rf"{sshd['port']} failed with {other}"):
    ssh.run(target, ["true"])
  closed = ssh.SshTarget("nobody@127.0.0.1", port=_free_port(), identity=sshd["key"],
                         known_hosts=sshd["known_hosts"])
  with pytest.raises(ssh.SshError, match="cannot connect to nobody@127.0.0.1 port .*--port"):
    ssh.run(closed, ["true"])
  good = ssh.SshTarget(f"{sshd['user']}@127.0.0.1", port=sshd["port"], identity=sshd["key"],
                       known_hosts=sshd["known_hosts"])
  assert ssh.run(good, ["echo", "a b"]) == "a b\n"
  with pytest.raises(ssh.SshError, match=r"`sh -c 'exit 3'` on .* failed \(exit 3\)"):
    ssh.run(good, ["sh", "-c", "exit 3"])
  with pytest.raises(ValueError, match="--identity: no key file"):
    ssh.SshTarget("a@b", identity=str(tmp_path / "missing"))


AARCH64_ROOT = os.environ.get("EDGEGNN_AARCH64_ROOT", "/var/tmp/edgegnn-aarch64-root")


@pytest.mark.slow
@pytest.mark.parametrize("cpu", ["cortex-a72", "cortex-a53"])  # Raspberry Pi 4, Pi 3
def test_bundle_runner_under_aarch64_emulation(run_dir, tmp_path, cpu):
  """The bundle's runner on an arm64 Python + the aarch64 ai-edge-litert wheel (qemu user
  mode, emulating a Pi's core): same predictions and logits as the x86 run of the bundle.

  A real core model is given on purpose: under qemu 7.2's default `-cpu max` the
  dynamic-range int8 artifact came out wrong (agreement 0.318 on Cora) while float32 and
  float16 matched; with cortex-a72, cortex-a53 and neoverse-n1 all three matched.
  """
  script = pathlib.Path(__file__).resolve().parents[1] / "tools" / "aarch64_root.sh"
  made = subprocess.run(["bash", str(script), AARCH64_ROOT], capture_output=True, text=True,
                        timeout=3600, check=False)
  if made.returncode != 0:
    pytest.fail(f"could not build the arm64 root with {script} {AARCH64_ROOT} (needs root, "
                f"Debian's apt and the pip registry): {made.stderr[-2000:]}")
  qemu = shutil.which("qemu-aarch64-static")
  bundle = build_bundle(run_dir, tmp_path / "bundle").path
  x86 = subprocess.run([sys.executable, "run_bundle.py", "--runs", "2", "--warmup", "0",
                        "--out", "results_x86.json"], cwd=bundle, env=_clean_env(),
                       capture_output=True, text=True, timeout=600, check=False)
  assert x86.returncode == 0, x86.stderr[-2000:]
  shutil.move(bundle / "results", bundle / "results_x86")
  env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": f"{AARCH64_ROOT}/opt/site"}
  arm = subprocess.run([qemu, "-cpu", cpu, "-L", AARCH64_ROOT, f"{AARCH64_ROOT}/usr/bin/python3",
                        "run_bundle.py", "--runs", "2", "--warmup", "0", "--out",
                        "results_arm.json"], cwd=bundle, env=env, capture_output=True,
                       text=True, timeout=3600, check=False)
  assert arm.returncode == 0, arm.stderr[-3000:]
  results = json.loads((bundle / "results_arm.json").read_text())
  assert results["device"]["machine"] == "aarch64"
  for name, result in results["artifacts"].items():
    assert result["agreement"] == 1.0 and result["max_abs_diff"] < 1e-5, (name, result)
    np.testing.assert_allclose(np.load(bundle / "results" / f"{name}.npy"),
                               np.load(bundle / "results_x86" / f"{name}.npy"),
                               rtol=1e-5, atol=1e-5)
