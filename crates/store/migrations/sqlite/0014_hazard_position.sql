-- Where the reporter stood when they registered a hazard, if their phone
-- shared its location (WGS-84 degrees, exact decimals as text, both or
-- neither). The photos keep their own EXIF position besides.
ALTER TABLE hazard ADD COLUMN latitude TEXT;
ALTER TABLE hazard ADD COLUMN longitude TEXT;
