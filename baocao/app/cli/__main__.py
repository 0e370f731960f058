"""`python -m baocao.app.cli`, the same as the installed `baocao` command."""

from baocao.app.cli.root import main

main()
