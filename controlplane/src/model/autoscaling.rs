//! EC2 Auto Scaling groups and their launch sources (SPEC §18).

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;

/// What a launch template or launch configuration gives each instance's network interfaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LaunchNetworkSettings {
    /// Security groups by id (`SecurityGroupIds`, or a network interface's `Groups`).
    pub security_group_ids: Vec<String>,
    /// Security groups by name or id (`SecurityGroups`), resolved in the VPC of the subnet the
    /// instance lands in.
    pub security_group_names: Vec<String>,
    /// Network interfaces by `DeviceIndex` (empty: one primary interface).
    pub interfaces: Vec<LaunchInterface>,
    /// `AssociatePublicIpAddress` of a launch configuration (overrides the subnet's
    /// `MapPublicIpOnLaunch`).
    pub associate_public_ip: Option<bool>,
}

/// A `NetworkInterfaces` entry of a launch template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchInterface {
    /// `DeviceIndex`.
    pub device_index: u32,
    /// `AssociatePublicIpAddress` (overrides the subnet's `MapPublicIpOnLaunch`).
    pub associate_public_ip: Option<bool>,
    /// `Groups`: security group ids.
    pub groups: Vec<String>,
}

/// An `AWS::EC2::LaunchTemplate`: CloudFormation creates it with one version, 1, which is both
/// `$Latest` and `$Default`.
#[derive(Clone, Debug)]
pub struct LaunchTemplate {
    /// Where it was loaded from, and its AWS id (`lt-…`).
    pub origin: Origin,
    /// `LaunchTemplateName` (generated when absent, as CloudFormation does).
    pub name: String,
    /// The network settings of `LaunchTemplateData`.
    pub network: LaunchNetworkSettings,
}

/// An `AWS::AutoScaling::LaunchConfiguration`.
#[derive(Clone, Debug)]
pub struct LaunchConfiguration {
    /// Where it was loaded from; its id is its name.
    pub origin: Origin,
    /// Its network settings.
    pub network: LaunchNetworkSettings,
}

/// Where an Auto Scaling group's instances get their settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LaunchSource {
    /// A launch template (index into [`Model::launch_templates`]) at a version.
    Template {
        /// Index into [`Model::launch_templates`].
        template: usize,
        /// The version as written (`$Latest`, `$Default` or a number).
        version: String,
    },
    /// A launch configuration (index into [`Model::launch_configurations`]).
    Configuration(usize),
    /// `InstanceId`: a launch configuration AWS derives from an instance (index into
    /// [`Model::instances`]), with its security groups.
    Instance(usize),
}

/// An `AWS::AutoScaling::AutoScalingGroup` with the instances it launched.
#[derive(Clone, Debug)]
pub struct AutoScalingGroup {
    /// Where it was loaded from; its id is its name.
    pub origin: Origin,
    /// `AutoScalingGroupName` (generated when absent, as CloudFormation does).
    pub name: String,
    /// `MinSize`.
    pub min_size: u32,
    /// `MaxSize`.
    pub max_size: u32,
    /// `DesiredCapacity` (`MinSize` when absent).
    pub desired_capacity: u32,
    /// `VPCZoneIdentifier` (indices into [`Model::subnets`]), in the order written.
    pub subnets: Vec<usize>,
    /// Where the instances get their settings.
    pub launch_source: LaunchSource,
    /// `TargetGroupARNs` as written.
    pub target_group_arns: Vec<String>,
    /// The instances it launched, in launch order (indices into [`Model::instances`]).
    pub instances: Vec<usize>,
}

/// An instance's membership of an Auto Scaling group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoScalingMember {
    /// The group that launched it, when it was loaded (index into
    /// [`Model::auto_scaling_groups`]); `None` for an instance of a snapshot, known only by its
    /// `aws:autoscaling:groupName` tag.
    pub group: Option<usize>,
    /// The group's `AutoScalingGroupName`.
    pub group_name: String,
    /// Its place in the group's launch order (`<Group>/0`, `<Group>/1`, …).
    pub index: u32,
}
