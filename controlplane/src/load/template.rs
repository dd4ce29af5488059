//! One CloudFormation template as a stack: its resources built in dependency order, then its
//! exports offered to the templates loaded after it.

use super::*;

impl Builder {
    /// Build template `t` as stack `stack` with the parameter values given for it. Its
    /// exports join `imports`, which only the templates after it see, as with stacks created
    /// one after another. Returns whether the stack was created (its parameters and
    /// conditions resolve).
    pub(super) fn load_template(
        &mut self,
        t: &cfn::Template,
        stack: &str,
        parameters: BTreeMap<String, String>,
        opts: &LoadOptions,
        imports: &mut BTreeMap<String, String>,
    ) -> bool {
        let template = self.model.templates.len();
        self.template = template;
        self.model.templates.push(TemplateInfo {
            path: t.path.clone(),
            stack_name: stack.to_string(),
            region: opts.region.clone(),
            account_id: opts.account_id.clone(),
        });
        self.stack_index.insert(stack.to_string(), template);
        let mut ctx = StackContext::new(&opts.region, &opts.account_id, stack);
        self.stack_parameters = parameters
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ctx.parameter_overrides = parameters;
        ctx.imports = imports.clone();
        ctx.zones = opts.zones.clone();
        let ev = match Evaluator::new(t, &ctx) {
            Ok(ev) => ev,
            Err(errors) => {
                for e in &errors {
                    self.cfn_error(e);
                }
                return false;
            }
        };
        if !self.check_aws_parameters(t, &ev) {
            return false;
        }
        // Resources with broken references are reported and left out; the rest are still
        // built, so their own errors show up in the same run.
        let (order, errors) = ev.buildable_order();
        for e in &errors {
            self.cfn_error(e);
        }
        for (i, r) in t.resources.iter().enumerate() {
            if !order.contains(&i) && matches!(ev.resource_enabled(r), Ok(true)) {
                self.mark_failed(template, &r.logical_id);
            }
        }
        self.prescan_addresses(t, &ev);
        for i in order {
            self.build_resource(&ev, template, &t.resources[i]);
        }
        // Exports feed Fn::ImportValue of the templates loaded after this one.
        let lookup = Lookup::new(self, template);
        let mut outputs = Vec::new();
        for out in &t.output_details {
            let export = match ev.export_name(&out.name, &lookup) {
                Some(Ok(name)) => props::scalar_string(&name),
                _ => None,
            };
            let Ok(value) = ev.eval(&out.value, &lookup, None) else {
                continue;
            };
            let value = match &value {
                Value::Array(items) => Some(
                    items
                        .iter()
                        .filter_map(props::scalar_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                v => props::scalar_string(v),
            };
            let Some(value) = value else { continue };
            if let Some(name) = &export {
                imports.entry(name.clone()).or_insert(value.clone());
            }
            outputs.push(StackOutput {
                stack: stack.to_string(),
                key: out.name.clone(),
                value,
                description: out.description.clone(),
                export_name: export,
            });
        }
        self.model.outputs.extend(outputs);
        true
    }

    /// Evaluate one resource's properties and build it. A resource whose properties use a
    /// resource that failed fails quietly: its error would only repeat the first one.
    fn build_resource(&mut self, ev: &Evaluator<'_>, template: usize, r: &cfn::Resource) {
        match ev.resource_enabled(r) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                self.cfn_error(&e);
                return;
            }
        }
        let supported = SUPPORTED_TYPES.contains(&r.type_.as_str());
        let (props, touched_failed, placeholders) = {
            let lookup = Lookup::new(self, template);
            let props = ev.eval(&r.properties, &lookup, Some(&r.logical_id));
            (
                props,
                lookup.touched_failed.get(),
                lookup.placeholders.take(),
            )
        };
        if touched_failed && supported {
            self.mark_failed(template, &r.logical_id);
            return;
        }
        self.placeholders.extend(placeholders);
        match props {
            Ok(p) => self.add(template, &r.logical_id, &r.type_, &p),
            // A resource vpcsim does not model never fails the load, even when its
            // properties cannot be evaluated here.
            Err(e) if !supported => {
                self.diags.push(Diagnostic {
                    severity: Severity::Warning,
                    file: e.file.clone(),
                    logical_id: e.logical_id.clone(),
                    code: e.code.into(),
                    message: format!("{} (not simulated, kept as unsupported)", e.message),
                });
                self.add(template, &r.logical_id, &r.type_, &Value::Null);
            }
            Err(e) => {
                if let Some((code, message)) = self.explain(template, e.code, &e.message) {
                    self.diags.push(Diagnostic {
                        severity: Severity::Error,
                        file: e.file.clone(),
                        logical_id: e.logical_id.clone(),
                        code,
                        message,
                    });
                }
                self.mark_failed(template, &r.logical_id);
            }
        }
    }

    /// Build one resource from its evaluated properties.
    pub(super) fn add(&mut self, template: usize, logical_id: &str, kind: &str, p: &Value) {
        let result = match kind {
            "AWS::EC2::VPC" => self.add_vpc(template, logical_id, p),
            "AWS::EC2::VPCCidrBlock" => self.add_vpc_cidr_block(template, logical_id, p),
            "AWS::EC2::Subnet" => self.add_subnet(template, logical_id, p),
            "AWS::EC2::RouteTable" => self.add_route_table(template, logical_id, p),
            "AWS::EC2::Route" => self.add_route(template, logical_id, p),
            "AWS::EC2::SubnetRouteTableAssociation" => {
                self.add_rt_association(template, logical_id, p)
            }
            "AWS::EC2::InternetGateway" => self.add_igw(template, logical_id, p),
            "AWS::EC2::VPCGatewayAttachment" => {
                self.add_gateway_attachment(template, logical_id, p)
            }
            "AWS::EC2::EgressOnlyInternetGateway" => self.add_eigw(template, logical_id, p),
            "AWS::EC2::NatGateway" => self.add_nat(template, logical_id, p),
            "AWS::EC2::EIP" => self.add_eip(template, logical_id, p),
            "AWS::EC2::EIPAssociation" => self.add_eip_association(template, logical_id, p),
            "AWS::EC2::NetworkAcl" => self.add_nacl(template, logical_id, p),
            "AWS::EC2::NetworkAclEntry" => self.add_nacl_entry(template, logical_id, p),
            "AWS::EC2::SubnetNetworkAclAssociation" => {
                self.add_nacl_association(template, logical_id, p)
            }
            "AWS::EC2::SecurityGroup" => self.add_sg(template, logical_id, p),
            "AWS::EC2::SecurityGroupIngress" => {
                self.add_sg_rule_resource(template, logical_id, p, true)
            }
            "AWS::EC2::SecurityGroupEgress" => {
                self.add_sg_rule_resource(template, logical_id, p, false)
            }
            "AWS::EC2::Instance" => self.add_instance(template, logical_id, p),
            "AWS::EC2::NetworkInterface" => self.add_eni_resource(template, logical_id, p),
            "AWS::EC2::NetworkInterfaceAttachment" => {
                self.add_eni_attachment(template, logical_id, p)
            }
            "AWS::EC2::VPCPeeringConnection" => self.add_peering(template, logical_id, p),
            "AWS::EC2::TransitGateway" => self.add_tgw(template, logical_id, p),
            "AWS::EC2::TransitGatewayAttachment" => self.add_tgw_attachment(
                template,
                logical_id,
                "AWS::EC2::TransitGatewayAttachment",
                p,
            ),
            "AWS::EC2::TransitGatewayVpcAttachment" => self.add_tgw_attachment(
                template,
                logical_id,
                "AWS::EC2::TransitGatewayVpcAttachment",
                p,
            ),
            tgw_peering::PEERING_ATTACHMENT => self.add_tgw_peering(template, logical_id, p),
            "AWS::EC2::TransitGatewayRouteTable" => {
                self.add_tgw_route_table(template, logical_id, p)
            }
            "AWS::EC2::TransitGatewayRoute" => self.add_tgw_route(template, logical_id, p),
            "AWS::EC2::TransitGatewayRouteTableAssociation" => {
                self.add_tgw_association(template, logical_id, p)
            }
            "AWS::EC2::TransitGatewayRouteTablePropagation" => {
                self.add_tgw_propagation(template, logical_id, p)
            }
            "AWS::EC2::VPNGateway" => self.add_vgw(template, logical_id, p),
            "AWS::EC2::CustomerGateway" => self.add_cgw(template, logical_id, p),
            "AWS::EC2::VPNConnection" => self.add_vpn_connection(template, logical_id, p),
            "AWS::EC2::VPNConnectionRoute" => self.add_vpn_route(template, logical_id, p),
            "AWS::EC2::VPNGatewayRoutePropagation" => {
                self.add_vgw_propagation(template, logical_id, p)
            }
            "AWS::EC2::GatewayRouteTableAssociation" => {
                self.add_gateway_rt_association(template, logical_id, p)
            }
            elbv2::LOAD_BALANCER => self.add_load_balancer(template, logical_id, p),
            elbv2::LISTENER => self.add_listener(template, logical_id, p),
            elbv2::TARGET_GROUP => self.add_target_group(template, logical_id, p),
            alb::LISTENER_RULE => self.add_listener_rule(template, logical_id, p),
            alb::LISTENER_CERTIFICATE => self.add_listener_certificate(template, logical_id, p),
            "AWS::EC2::PrefixList" => self.add_prefix_list(template, logical_id, p),
            "AWS::EC2::VPCEndpoint" => self.add_vpc_endpoint(template, logical_id, p),
            gwlb::ENDPOINT_SERVICE => self.add_endpoint_service(template, logical_id, p),
            autoscaling::LAUNCH_TEMPLATE => self.add_launch_template(template, logical_id, p),
            autoscaling::LAUNCH_CONFIGURATION => {
                self.add_launch_configuration(template, logical_id, p)
            }
            autoscaling::AUTO_SCALING_GROUP => self.add_auto_scaling_group(template, logical_id, p),
            k if autoscaling::NOT_SIMULATED.contains(&k) => {
                self.add_auto_scaling_extra(template, logical_id, k, p);
                Ok(())
            }
            waf::IP_SET => self.add_waf_ip_set(template, logical_id, p),
            waf::REGEX_PATTERN_SET => self.add_waf_regex_set(template, logical_id, p),
            waf::RULE_GROUP => self.add_waf_rule_group(template, logical_id, p),
            waf::WEB_ACL => self.add_waf_web_acl(template, logical_id, p),
            waf::WEB_ACL_ASSOCIATION => self.add_waf_association(template, logical_id, p),
            network_firewall::FIREWALL => self.add_network_firewall(template, logical_id, p),
            network_firewall::POLICY => self.add_firewall_policy(template, logical_id, p),
            network_firewall::RULE_GROUP => self.add_firewall_rule_group(template, logical_id, p),
            network_firewall::LOGGING => self.add_firewall_logging(template, logical_id, p),
            dns::HOSTED_ZONE => self.add_hosted_zone(template, logical_id, p),
            dns::RECORD_SET => self.add_record_set(template, logical_id, p),
            dns::RECORD_SET_GROUP => self.add_record_set_group(template, logical_id, p),
            dns::HEALTH_CHECK => self.add_health_check(template, logical_id, p),
            resolver::ENDPOINT => self.add_resolver_endpoint(template, logical_id, p),
            resolver::RULE => self.add_resolver_rule(template, logical_id, p),
            resolver::RULE_ASSOCIATION => {
                self.add_resolver_rule_association(template, logical_id, p)
            }
            resolver::DOMAIN_LIST => self.add_dns_firewall_domain_list(template, logical_id, p),
            resolver::RULE_GROUP => self.add_dns_firewall_rule_group(template, logical_id, p),
            resolver::RULE_GROUP_ASSOCIATION => {
                self.add_dns_firewall_association(template, logical_id, p)
            }
            _ => {
                let origin =
                    self.origin(template, logical_id, kind.to_string(), props::name_tag(p));
                self.keep_unsupported(origin);
                Ok(())
            }
        };
        if let Err(problem) = result {
            self.mark_failed(template, logical_id);
            if problem.quiet {
                return;
            }
            if let Some((code, message)) = self.explain(template, problem.code, &problem.message) {
                self.diag(Severity::Error, template, logical_id, &code, message);
            }
        }
    }
}
