"""The web console at `/console`: the bus made visible, served by the bus itself (issue 19).

Server-rendered pages (Jinja2) with every asset in the package: no CDN, no build step. The
console is a client of the bus's own admin API, reached in-process with the admin token of
whoever signed in, so it sees exactly what that admin client may see, and every change it makes
is authorised and audited like any other admin call.
"""
