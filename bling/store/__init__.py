"""The host's store: inbox (the queue), effects, budget, token, and the tables plugins declare."""
