from edgegnn.cli import console

console()
