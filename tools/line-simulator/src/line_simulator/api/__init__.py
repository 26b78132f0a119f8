"""HTTP surface: LINE's Messaging API (``/v2``) and the simulator's control API (``/sim``)."""
