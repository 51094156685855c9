"""Runs commands on, and copies files to and from, a device over SSH.

Uses the OpenSSH client binaries (`ssh`, `scp`) through subprocess, non-interactively
(BatchMode: no password or host-key prompt can hang a run). An unknown host key is refused
unless `accept_new_host_key` (`--accept-new-host-key`) is set. Failures raise `SshError`
naming the host and what to check: authentication (key not accepted), connection
(refused, unknown host, timeout), or the remote command's exit status and stderr.
"""
from __future__ import annotations

import dataclasses
import pathlib
import shlex
import shutil
import subprocess
from typing import Optional, Sequence


class SshError(RuntimeError):
  """An SSH connection, authentication, copy or remote command failed."""


@dataclasses.dataclass(frozen=True)
class SshTarget:
  """Where and how to connect.

  Attributes:
    destination: USER@HOST (or HOST).
    port: SSH port.
    identity: Private key file (default: the client's own keys / agent).
    known_hosts: Known-hosts file to use (default: the user's).
    connect_timeout: Seconds to wait for the connection.
    accept_new_host_key: Accept (and record in the known-hosts file) the key of a host
      seen for the first time. Off by default: an unknown key is refused, since on first
      contact nothing tells the device from an impostor; a known host whose key changed
      is refused either way.
  """
  destination: str
  port: int = 22
  identity: Optional[str] = None
  known_hosts: Optional[str] = None
  connect_timeout: int = 15
  accept_new_host_key: bool = False

  def __post_init__(self):
    if not self.destination or self.destination.startswith("-") or " " in self.destination:
      raise ValueError(f"--host: {self.destination!r} is not USER@HOST.")
    if not 0 < self.port < 65536:
      raise ValueError(f"--port: {self.port} is not a TCP port (1-65535).")
    if self.identity is not None and not pathlib.Path(self.identity).is_file():
      raise ValueError(f"--identity: no key file {self.identity}.")

  def options(self) -> list[str]:
    checking = "accept-new" if self.accept_new_host_key else "yes"
    args = ["-o", "BatchMode=yes", "-o", f"StrictHostKeyChecking={checking}",
            "-o", f"ConnectTimeout={self.connect_timeout}"]
    if self.known_hosts:
      args += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
    if self.identity:
      args += ["-i", self.identity, "-o", "IdentitiesOnly=yes"]
    return args


def _binary(name: str) -> str:
  path = shutil.which(name)
  if path is None:
    raise SshError(f"`{name}` not found: install the OpenSSH client "
                   "(Debian/Ubuntu: apt-get install openssh-client).")
  return path


def _explain(target: SshTarget, what: str, done: subprocess.CompletedProcess) -> SshError:
  err = (done.stderr or "").strip()
  where = f"{target.destination} port {target.port}"
  if "Permission denied" in err or "Too many authentication failures" in err:
    key = target.identity or "your default keys"
    return SshError(f"{what}: authentication to {where} failed with {key}: add the public "
                    f"key to the device's ~/.ssh/authorized_keys (ssh-copy-id), or pass "
                    f"--identity. ssh said: {err}")
  if "REMOTE HOST IDENTIFICATION HAS CHANGED" in err:
    return SshError(f"{what}: the host key of {where} changed since it was recorded in the "
                    "known-hosts file; if the device was reinstalled, remove the old key "
                    f"(ssh-keygen -R {_host(target)}) and add the new one. ssh said: "
                    f"{err[-600:]}")
  if "Host key verification failed" in err or "No ED25519 host key is known" in err or (
      "host key is known" in err):
    known = target.known_hosts or "~/.ssh/known_hosts"
    return SshError(f"{what}: {where} is not in the known-hosts file {known}, and an "
                    "unknown host key is refused. Check the key and add it: "
                    f"ssh-keyscan -p {target.port} {_host(target)} >> {known} (or connect "
                    f"once by hand: ssh -p {target.port} {target.destination}), or pass "
                    "--accept-new-host-key to accept it on first contact.")
  if done.returncode == 255 and any(s in err for s in (
      "Connection refused", "Could not resolve", "timed out", "No route to host",
      "Name or service not known", "Connection closed", "Host key verification failed")):
    return SshError(f"{what}: cannot connect to {where}: {err}. Check the host name, the "
                    "port (--port) and that sshd runs on the device.")
  return SshError(f"{what} on {where} failed (exit {done.returncode}): {err[-2000:]}")


def _host(target: SshTarget) -> str:
  return shlex.quote(target.destination.split("@")[-1])


def run(target: SshTarget, command: Sequence[str], timeout: float = 600.0) -> str:
  """Runs `command` (argv, quoted for the remote shell) on the device; returns stdout."""
  remote = " ".join(shlex.quote(str(c)) for c in command)
  argv = [_binary("ssh"), *target.options(), "-p", str(target.port), target.destination,
          remote]
  return _call(target, argv, f"`{remote}`", timeout)


def _call(target: SshTarget, argv: list[str], what: str, timeout: float) -> str:
  """Runs an ssh/scp argv; a timeout or a non-zero exit raises an explained SshError."""
  try:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
  except subprocess.TimeoutExpired as e:
    raise SshError(f"{what} ({target.destination} port {target.port}) did not finish in "
                   f"{timeout:.0f} s.") from e
  if done.returncode != 0:
    raise _explain(target, what, done)
  return done.stdout


def _scp(target: SshTarget, sources: list[str], destination: str, what: str,
         timeout: float) -> None:
  argv = [_binary("scp"), "-q", "-r", *target.options(), "-P", str(target.port), *sources,
          destination]
  _call(target, argv, what, timeout)


def copy_dir_to(target: SshTarget, local_dir: str | pathlib.Path, remote_dir: str,
                timeout: float = 600.0) -> None:
  """Replaces `remote_dir` on the device with a copy of `local_dir`."""
  run(target, ["sh", "-c", 'rm -rf "$1" && mkdir -p "$(dirname "$1")"', "sh", remote_dir],
      timeout=60)
  _scp(target, [str(local_dir)], f"{target.destination}:{remote_dir}",
       f"copying {local_dir} to {target.destination}:{remote_dir}", timeout)


def copy_from(target: SshTarget, remote_path: str, local_path: str | pathlib.Path,
              timeout: float = 600.0) -> None:
  """Copies a file or directory from the device."""
  _scp(target, [f"{target.destination}:{remote_path}"], str(local_path),
       f"fetching {target.destination}:{remote_path}", timeout)
