-- Rows for the tests added for dbt-expectations parity; the facts the cases rely on are in _parity.yml.
select *
from values
    (1, 2, 60, 'red', 'new', 'new', 'eu', 'eu', 1, 2, 'a', 'b', 'c', 4, 6, 10, 10),
    (2, 4, 50, 'red', 'new', 'New', 'eu', 'eu', 2, 1, 'b', 'c', 'd', 5, 5, 10, 10),
    (3, 6, 40, 'red', 'old', 'old', 'us', 'us', 1, 2, 'c', 'd', 'e', 1, 9, 10, 10),
    (4, 8, 30, 'blue', 'old', 'OLD', 'us', 'US', 2, 1, 'd', 'e', 'f', 0, 10, 10, 10),
    (5, 10, 20, 'blue', 'new', 'old', 'apac', 'apac', 1, 2, 'e', 'e', 'g', 3, 7, 10, 10),
    (6, 13, 10, 'green', 'old', 'new', 'apac', 'APAC', 2, 1, 'f', cast(null as string), 'h', 2, 8, 10, 100)
    as t(
        row_id, even_id, countdown, color, tag, tag_mixed, code, code_upper, pair_x, pair_y,
        first_choice, second_choice, third_choice, part_a, part_b, part_total, metric
    )
