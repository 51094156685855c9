"""Issue 24, SSH: a device whose host key is not known is refused unless
--accept-new-host-key is given, and the error says how to add the key."""
import pytest

from edgegnn.deploy import ssh

from test_deploy_pi import sshd  # noqa: F401  (fixture: a real OpenSSH server on loopback)


def test_an_unknown_host_key_is_refused_unless_accepted(sshd, tmp_path):  # noqa: F811
  empty = tmp_path / "empty_known_hosts"
  empty.write_text("")
  target = ssh.SshTarget(f"{sshd['user']}@127.0.0.1", port=sshd["port"], identity=sshd["key"],
                         known_hosts=str(empty))
  with pytest.raises(ssh.SshError, match=r"not in the known-hosts file .*ssh-keyscan -p "
                     rf"{sshd['port']} 127\.0\.0\.1.*--accept-new-host-key"):
    ssh.run(target, ["true"])
  assert empty.read_text() == ""  # nothing recorded
  accepting = ssh.SshTarget(target.destination, port=sshd["port"], identity=sshd["key"],
                            known_hosts=str(empty), accept_new_host_key=True)
  assert ssh.run(accepting, ["echo", "ok"]) == "ok\n"
  host_key = (sshd["home"] / "sshd" / "host_key.pub").read_text().split()[1]
  assert host_key in empty.read_text()
  assert ssh.run(target, ["echo", "ok"]) == "ok\n"  # known now, without the flag


def test_a_changed_host_key_is_refused_even_when_accepting_new_ones(sshd, tmp_path):  # noqa: F811
  wrong = tmp_path / "known_hosts"
  other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
  wrong.write_text(f"[127.0.0.1]:{sshd['port']} ssh-ed25519 {other}\n")
  target = ssh.SshTarget(f"{sshd['user']}@127.0.0.1", port=sshd["port"], identity=sshd["key"],
                         known_hosts=str(wrong), accept_new_host_key=True)
  with pytest.raises(ssh.SshError, match="host key of .* changed.*ssh-keygen -R"):
    ssh.run(target, ["true"])
