//! Projection of dynamic resources (`--watch-resource group/version/kind`, e.g. Argo
//! `Workflow`s): objects the producer has no typed model for. The projection is generic:
//! labels, `status.phase` and `status.progress` when present, and the direct controller.

use super::{ProjectError, Projection, from_meta};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use serde_json::{Map, Value, json};

/// Projects a dynamic object of `kind` (its `data` holds everything but metadata).
pub fn project_dynamic_object(kind: &str, obj: &DynamicObject) -> Option<Projection> {
    from_meta(kind, &obj.metadata, body(&obj.metadata, &obj.data))
}

/// Projects the JSON of an object of a dynamic `kind` (what [`project_dynamic_object`] publishes
/// for the same object).
pub fn project_dynamic(kind: &str, value: &Value) -> Result<Projection, ProjectError> {
    let meta: ObjectMeta = serde_json::from_value(
        value.get("metadata").cloned().unwrap_or_default(),
    )
    .map_err(|source| ProjectError::Malformed {
        kind: kind.into(),
        source,
    })?;
    from_meta(kind, &meta, body(&meta, value)).ok_or_else(|| ProjectError::MissingName(kind.into()))
}

fn body(meta: &ObjectMeta, data: &Value) -> Value {
    let mut obj = Map::new();
    obj.insert(
        "labels".into(),
        json!(meta.labels.clone().unwrap_or_default()),
    );
    let status = data.get("status");
    for field in ["phase", "progress"] {
        if let Some(v) = status.and_then(|s| s.get(field)).filter(|v| !v.is_null()) {
            obj.insert(field.into(), v.clone());
        }
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workflow() -> Value {
        json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": "build-1", "namespace": "ci", "uid": "u1", "labels": {"app": "ci"},
                         "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow",
                                              "name": "nightly", "uid": "u0", "controller": true}]},
            "spec": {"entrypoint": "main"},
            "status": {"phase": "Running", "progress": "1/3", "startedAt": "2025-01-01T00:00:00Z"}
        })
    }

    #[test]
    fn dynamic_objects_project_labels_phase_progress_and_owner() {
        let p = project_dynamic("Workflow", &workflow()).expect("projects");
        assert_eq!(p.key(), "Workflow/ci/build-1");
        assert_eq!(
            p.obj,
            json!({"labels": {"app": "ci"}, "phase": "Running", "progress": "1/3",
                   "owner": {"kind": "CronWorkflow", "name": "nightly"}})
        );
    }

    #[test]
    fn the_json_and_the_dynamic_object_project_alike() {
        let dynamic: DynamicObject = serde_json::from_value(workflow()).expect("dynamic");
        assert_eq!(
            project_dynamic_object("Workflow", &dynamic),
            Some(project_dynamic("Workflow", &workflow()).expect("projects"))
        );
    }

    #[test]
    fn objects_without_status_project_labels_only() {
        let p = project_dynamic(
            "Workflow",
            &json!({"metadata": {"name": "w", "namespace": "ci"}}),
        )
        .expect("projects");
        assert_eq!(p.obj, json!({"labels": {}}));
    }
}
