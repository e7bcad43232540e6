-- Empty and blank strings, which CSV seeds turn into nulls.
select *
from values
    (1, 'a', '   ', ''),
    (2, ' b ', 'x', 'y'),
    (3, cast(null as string), cast(null as string), cast(null as string))
    as t(string_id, label, blank_label, empty_label)
