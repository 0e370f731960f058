"""Operating an installation: checks both the CLI (`baocao doctor`) and the web board's system
page run, below both so neither imports the other."""
