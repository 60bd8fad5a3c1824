"""The read side: one projector per read model, the runner that keeps them
current, and the rebuild that replaces them from the log.

Nothing but a projector writes a read-model table, and every projector's rows
commit in the same transaction as its position in the log.
"""
