-- Daily reentry cap breaches per trading day (R7): book-days with more executed
-- reentries than var daily_reentry_cap. MetricFlow twin: mf query --metrics
-- cap_breaches,book_days_with_reentries --group-by metric_time__day.
select
    trading_date,
    count(*) filter (where is_over_cap) as cap_breaches,
    count(*) as book_days_with_reentries
from {{ ref('fct_daily_reentries') }}
group by trading_date
order by trading_date
