"""`python -m publisher.sandbox --port 8080` runs the sandbox server in the foreground."""

from .server import main

main()
