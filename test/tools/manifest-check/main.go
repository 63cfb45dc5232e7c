// Command manifest-check validates Kubernetes manifests offline (multi-document YAML on standard
// input, such as `helm template` output) against the Kubernetes API types of k8s.io/api: every
// document must name a kind this Kubernetes version serves and decode strictly into it — an unknown
// or misspelt field, a duplicate key or a value of the wrong type is an error — and its object names,
// labels and container ports must be valid. It prints one line per valid object ("Kind/name") and
// exits with status 1 listing every problem when any document is invalid.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

var separator = regexp.MustCompile(`(?m)^---\s*$`)

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail([]string{err.Error()})
	}
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	problems := []string{}
	for i, document := range separator.Split(string(input), -1) {
		if strings.TrimSpace(stripComments(document)) == "" {
			continue
		}
		where := fmt.Sprintf("document %d", i+1)
		if source := sourceOf(document); source != "" {
			where += " (" + source + ")"
		}
		// Strict YAML → JSON first: duplicate keys are an error, not a silent last-one-wins.
		asJSON, err := yaml.YAMLToJSONStrict([]byte(document))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		object, kind, err := decoder.Decode(asJSON, nil, nil)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		found := objectProblems(object)
		for _, p := range found {
			problems = append(problems, fmt.Sprintf("%s %s: %s", where, kind.Kind, p))
		}
		if len(found) == 0 {
			accessor, _ := meta.Accessor(object)
			fmt.Printf("%s/%s\n", kind.Kind, accessor.GetName())
		}
	}
	if len(problems) > 0 {
		fail(problems)
	}
}

// objectProblems checks what the API server would refuse before anything else: names and labels.
func objectProblems(object runtime.Object) []string {
	problems := []string{}
	accessor, err := meta.Accessor(object)
	if err != nil {
		return []string{err.Error()}
	}
	if accessor.GetName() == "" {
		problems = append(problems, "metadata.name is missing")
	}
	for _, message := range validation.IsDNS1123Subdomain(accessor.GetName()) {
		problems = append(problems, "metadata.name: "+message)
	}
	for key, value := range accessor.GetLabels() {
		for _, message := range validation.IsQualifiedName(key) {
			problems = append(problems, fmt.Sprintf("label %q: %s", key, message))
		}
		for _, message := range validation.IsValidLabelValue(value) {
			problems = append(problems, fmt.Sprintf("label %q value %q: %s", key, value, message))
		}
	}
	if spec := podSpecOf(object); spec != nil {
		problems = append(problems, podProblems(spec)...)
	}
	return problems
}

func podSpecOf(object runtime.Object) *corev1.PodSpec {
	switch o := object.(type) {
	case *appsv1.StatefulSet:
		return &o.Spec.Template.Spec
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec
	case *batchv1.Job:
		return &o.Spec.Template.Spec
	case *corev1.Pod:
		return &o.Spec
	}
	return nil
}

func podProblems(spec *corev1.PodSpec) []string {
	problems := []string{}
	if len(spec.Containers) == 0 {
		problems = append(problems, "the pod has no container")
	}
	for _, container := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		if container.Image == "" {
			problems = append(problems, fmt.Sprintf("container %q has no image", container.Name))
		}
		for _, port := range container.Ports {
			for _, message := range validation.IsValidPortNum(int(port.ContainerPort)) {
				problems = append(problems, fmt.Sprintf("container %q port %d: %s", container.Name, port.ContainerPort, message))
			}
			if port.Name != "" {
				for _, message := range validation.IsValidPortName(port.Name) {
					problems = append(problems, fmt.Sprintf("container %q port name %q: %s", container.Name, port.Name, message))
				}
			}
		}
	}
	return problems
}

// sourceOf is the template a `helm template` document came from, named in its "# Source:" comment.
func sourceOf(document string) string {
	for _, line := range strings.Split(document, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# Source: "); ok {
			return rest
		}
	}
	return ""
}

func stripComments(document string) string {
	var kept bytes.Buffer
	for _, line := range strings.Split(document, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			kept.WriteString(line + "\n")
		}
	}
	return kept.String()
}

func fail(problems []string) {
	fmt.Fprintln(os.Stderr, strings.Join(problems, "\n"))
	os.Exit(1)
}
