"""Acceptance checks (AG-7, verified progress): one declarative browser check per MVP feature.

`spec` is the format the agent writes and the host validates; `fixtures` are the files a check may
upload (made on the host, never taken from the sandbox); `runs` runs a workspace's checks through the
`BrowserChecker` port and stores the results with their evidence.
"""
