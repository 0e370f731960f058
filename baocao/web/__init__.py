"""The staff board: a server-rendered site over the database the service writes.

Reads never block intake (short read transactions; SQLite in WAL mode); every action goes through
the same functions and audit trail as the CLI, with the signed-in user's name as the actor.
"""
