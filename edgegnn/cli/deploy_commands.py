"""`edgegnn deploy pi`: run a pipeline's artifacts on a device."""
from __future__ import annotations

import click

from edgegnn.cli.base import MAX_RUNS, emit_json, fail as _fail, info, main, result


@main.group()
def deploy():
  """Run a pipeline's artifacts on a device and add the device's figures to the report."""


@deploy.command("pi")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="The run directory (OUT of `edgegnn run`).")
@click.option("--host", default=None, help="USER@HOST of the device (SSH, key auth).")
@click.option("--bundle-only", "bundle_dir", default=None, type=click.Path(file_okay=False),
              help="Only write the bundle to this directory (copy it over yourself).")
@click.option("--port", default=22, show_default=True, help="SSH port.")
@click.option("--identity", default=None, type=click.Path(dir_okay=False),
              help="SSH private key file.")
@click.option("--python", "python", default="python3", show_default=True,
              help="Python on the device (needs numpy and ai-edge-litert).")
@click.option("--remote-dir", default="edgegnn_bundle", show_default=True,
              help="Bundle directory on the device.")
@click.option("--label", default=None, help="Device column name (default: the host).")
@click.option("--artifact", "artifacts", multiple=True,
              help="Only this artifact (repeatable; default: all).")
@click.option("--max-examples", type=int, default=None,
              help="Graph tasks: only the first N test graphs.")
@click.option("--runs", default=50, show_default=True, type=click.IntRange(1, MAX_RUNS))
@click.option("--warmup", default=5, show_default=True, type=click.IntRange(0, MAX_RUNS))
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 256))
@click.option("--known-hosts", default=None, type=click.Path(dir_okay=False),
              help="Known-hosts file (default: the user's).")
@click.option("--accept-new-host-key", is_flag=True,
              help="Accept and record the host key of a device never connected to before "
                   "(default: refuse it; add it with ssh-keyscan or one manual ssh).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the bundle or the device's results as one JSON document.")
def deploy_pi(run_dir, host, bundle_dir, port, identity, python, remote_dir, label, artifacts,
              max_examples, runs, warmup, threads, known_hosts, accept_new_host_key, as_json):
  """Bundle a run's artifacts for a Raspberry Pi; with --host, run them there over SSH.

  The device needs only Python 3, numpy and ai-edge-litert. Its agreement with the host,
  accuracy and latency p50/p90 become a device column of OUT/report.json and the report.
  """
  from edgegnn.deploy import pi, pi_bundle, ssh
  from edgegnn.pipeline import report as report_lib
  from edgegnn.safe_paths import exclusive_lock
  if (host is None) == (bundle_dir is None):
    _fail(ValueError("give exactly one of --host USER@HOST (run on the device) or "
                     "--bundle-only DIR (write the bundle only)."))
  try:
    if bundle_dir is not None:
      bundle = pi_bundle.build_bundle(run_dir, bundle_dir, artifacts=artifacts or None,
                                      max_examples=max_examples)
      if as_json:
        emit_json({"bundle": str(bundle.path), "artifacts": list(bundle.artifacts),
                   "examples": bundle.examples, "bytes": bundle.bytes,
                   "runner": pi_bundle.RUNNER_NAME})
      else:
        result(f"wrote {bundle.path}: {len(bundle.artifacts)} artifact(s), "
               f"{bundle.examples} example(s), {bundle.bytes} bytes. On the device: "
               f"python3 {pi_bundle.RUNNER_NAME} (needs numpy + ai-edge-litert)")
      return
    target = ssh.SshTarget(host, port=port, identity=identity, known_hosts=known_hosts,
                           accept_new_host_key=accept_new_host_key)
    label = pi.check_label(label or host.split("@")[-1])
    with exclusive_lock(run_dir, "edgegnn run or deploy"):  # it rewrites report.json
      results = pi.deploy_to_pi(run_dir, target, python=python, remote_dir=remote_dir,
                                runs=runs, warmup=warmup, threads=threads, label=label,
                                artifacts=artifacts or None, max_examples=max_examples,
                                log=info)
      report = pi.merge_device_results(run_dir, results, label, host=host)
      files = report_lib.write_report(run_dir, report)
  except (ValueError, FileNotFoundError, RuntimeError) as e:
    _fail(e)
  if as_json:
    emit_json({"device": label, "results": results, "report": str(files.markdown)})
  else:
    result(f"device {label}: {results['device'].get('machine')}; report: {files.markdown}")
