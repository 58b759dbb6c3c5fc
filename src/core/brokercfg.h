/*
 * brokercfg.h - the `broker:` mapping shared by agent.yaml and
 * aggregator.yaml, so both daemons validate MQTT settings identically.
 */
#ifndef OFFICEMETER_BROKERCFG_H
#define OFFICEMETER_BROKERCFG_H

#include "officemeter/agentcfg.h"
#include "yamlcfg.h"

/* Schema for om_broker_config (declared in officemeter/agentcfg.h). */
extern const om_cfg_schema om_broker_schema;

#endif
