-- quadrant: frequency x average order value.
SET ROLE ca_analyst;

-- Quadrants: a value equal to its cut is high.
SELECT quadrant(3, 60, 3, 60), quadrant(2.99, 60, 3, 60), quadrant(3, 59.99, 3, 60), quadrant(1, 1, 3, 60),
       quadrant(3.0::float8, 60.0::float8, 3.0::float8, 60.0::float8);
-- Composes with window functions: cuts at the population medians.
WITH c AS (SELECT * FROM (VALUES (1, 1, 20.0), (2, 5, 80.0), (3, 2, 90.0), (4, 6, 10.0)) v(customer, frequency, aov))
SELECT customer, quadrant(frequency, aov, fcut, vcut)
FROM c, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY frequency) AS fcut,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY aov) AS vcut FROM c) m ORDER BY 1;
RESET ROLE;
