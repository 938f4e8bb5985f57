-- How often was the daily reentry cap broken, per month? (README example query;
-- MetricFlow twin: mf query --metrics cap_breaches,book_days_with_reentries
-- --group-by metric_time__month). One row of fct_daily_reentries is a book-day
-- with a reentry-typed order (R7).
select
    date_trunc('month', trading_date) as trading_month,
    count(*) filter (where is_over_cap) as days_over_cap,
    count(*) as days_with_reentries
from {{ ref('fct_daily_reentries') }}
group by trading_month
order by trading_month
