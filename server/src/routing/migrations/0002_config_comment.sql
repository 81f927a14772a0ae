-- Issue 11 (admin API): each published version may say why ("weights for the holiday peak").
ALTER TABLE routing_config_versions ADD COLUMN comment TEXT;
