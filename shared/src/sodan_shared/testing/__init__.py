"""Test helpers shared by every service's tests: real NATS, a fresh database, factories."""
