-- The app's own entry_type against the derived one (README example query): how
-- often the app's label (recorded_entry_type, not trustworthy) disagrees with
-- the derived entry_type (R3).
select
    recorded_entry_type,
    entry_type,
    count(*) as orders
from {{ ref('fct_orders') }}
where recorded_entry_type is not null
group by all
order by all
