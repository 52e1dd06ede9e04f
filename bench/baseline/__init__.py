"""The floor to compare signing against: a bare view that inserts one row.

It runs in the same gunicorn, behind the same middleware, on the same database as the
signing view, so ``ours ÷ baseline`` says how much the signing path costs on top of
"receive a form, insert a row, answer".
"""
