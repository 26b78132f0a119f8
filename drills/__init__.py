"""Fault drills (`make drills`): load through the LINE simulator, a fault, and a reconciliation.

Each drill plays LINE users writing to the desk and counsellors answering them
while it injects one fault (a service killed, NATS or PostgreSQL stopped, junk
webhooks, LINE refusing pushes, a poison event), then checks that every event
LINE got a 2xx for is stored exactly once and every reply a counsellor sent is
received exactly once. `python -m drills.run` prints the table; the test suite
runs a reduced set (tests/drills/).
"""
