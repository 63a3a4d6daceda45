"""The course: its assignments (rubric, repositories, deadline, late policy), roster and extensions.

Pure data and decisions; nothing here touches the database or the network.
"""
